"""One-epoch train -> checkpoint -> tools/test.py runs of a dataset config on generated files
in its official layout (shared by tests/plugins/datasets/test_istd.py and
tests/plugins/datasets/test_raindrop.py)."""
import json

from tiny_training import run

# A tiny network and tiny crops (fast on 2 CPU cores), loaders in the main process.
SMALL_MODEL = ['model.backbone.dim=8', 'model.backbone.dim_mults=[1,2]']
NO_WORKERS = [f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader',
                                               'test_dataloader')
              for key in ('num_workers=0', 'persistent_workers=False')]


def one_epoch_overrides(data_root, crop: int = 32, crop_step: int = 1) -> list:
    """The override keys every config accepts (issue 4), for one epoch of batch 2 that
    validates and checkpoints once, plus the small model and ``crop`` x ``crop`` patches
    (``crop_step``: the index of PairedAlbumentations in the training pipeline)."""
    return [f'train_dataloader.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}',
            'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            'default_hooks.checkpoint.interval=1',
            f'train_dataloader.dataset.pipeline.{crop_step}.transforms.0.height={crop}',
            f'train_dataloader.dataset.pipeline.{crop_step}.transforms.0.width={crop}',
            *SMALL_MODEL, *NO_WORKERS]


def train_and_test(config, data_root, root, *test_args):
    """Train ``config`` for one epoch on ``data_root``, then evaluate the epoch's checkpoint
    with tools/test.py; returns (work dir, the reported metrics, test.py's stdout)."""
    overrides = one_epoch_overrides(data_root)
    work_dir = root / 'work'
    run('tools/train.py', config, '--work-dir', work_dir, '--cfg-options', *overrides)
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file(), sorted(p.name for p in work_dir.iterdir())
    result = run('tools/test.py', config, checkpoint, '--work-dir', root / 'test_work',
                 *test_args, '--cfg-options', *overrides)
    metrics = json.loads((root / 'test_work' / 'metrics.json').read_text())['metrics']
    return work_dir, metrics, result.stdout
