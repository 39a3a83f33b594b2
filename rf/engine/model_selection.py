"""Where the best checkpoint is chosen: the authors' way (validation on the test split) or on a
validation split held out of the training data.

The paper configs validate on the test split, as the authors' training scripts do, so their
numbers compare with the paper's; choosing a checkpoint by test scores inflates them. With
:func:`select_on_validation_split` (``tools/train.py --select-on val-split``) every N-th training
pair (``hold_out_every``, sorted order) is held out for validation and left out of training; the
test split is then only used by ``tools/test.py``.
"""
import copy

SELECT_ON = ('test', 'val-split')


class ModelSelectionError(ValueError):
    """The config's training data cannot be split for validation."""
    rf_user_error = True


def select_on_validation_split(cfg, hold_out_every: int = 10) -> None:
    """Point ``cfg``'s validation at pairs held out of its training dataset (in place)."""
    if hold_out_every < 2:
        raise ModelSelectionError(f'--hold-out-every must be at least 2, got {hold_out_every}.')
    train_set = cfg.get('train_dataloader', {}).get('dataset')
    val_loader = cfg.get('val_dataloader')
    if not train_set or not val_loader or 'pipeline' not in train_set:
        raise ModelSelectionError('--select-on val-split needs a config with a train_dataloader '
                                  'whose dataset is a paired folder dataset (with a pipeline) and '
                                  'a val_dataloader.')
    if train_set.get('hold_out_every'):
        raise ModelSelectionError('The config already holds pairs out of its training data '
                                  f"(train_dataloader.dataset.hold_out_every="
                                  f"{train_set['hold_out_every']}); --select-on val-split would "
                                  'split it twice.')
    val_set = copy.deepcopy(train_set)
    val_set.update(hold_out_every=hold_out_every, hold_out_part='held_out',
                   pipeline=copy.deepcopy(val_loader['dataset']['pipeline']))
    train_set.update(hold_out_every=hold_out_every, hold_out_part='rest')
    val_loader = copy.deepcopy(val_loader)
    val_loader['dataset'] = val_set
    cfg.val_dataloader = val_loader
    cfg.model_selection = dict(select_on='val-split', hold_out_every=hold_out_every)
