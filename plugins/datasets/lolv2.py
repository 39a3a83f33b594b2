"""First-party plugin: LOL-v2-real low-light pairs in the official layout (docs/design.md §3.1)."""
from rf.datasets import PairedImageDataset
from rf.plugins import hookimpl

LOLV2_SPLITS = {'train': 'Train', 'test': 'Test'}


class LOLv2RealDataset(PairedImageDataset):
    """LOL-v2-real (Yang et al., TIP 2021): ``data_root/{Train,Test}/{Low,Normal}`` with
    ``lowNNNNN.png`` (low light) paired with ``normalNNNNN.png`` (ground truth, any extension).

    A low-light image without its normal-light partner is an error listing the files.

    Args:
        data_root: the folder holding ``Train`` and ``Test`` (the dataset's ``Real_captured``).
        split: ``'train'`` (689 pairs) or ``'test'`` (100 pairs).
        **kwargs: as :class:`PairedImageDataset` (``pipeline``, ``hold_out_every``, ...).
    """

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs) -> None:
        if split not in LOLV2_SPLITS:
            raise ValueError(f'LOLv2RealDataset: split must be one of {sorted(LOLV2_SPLITS)}, '
                             f'got {split!r}.')
        folder = LOLV2_SPLITS[split]
        self.split = split
        super().__init__(data_root=data_root, degraded_dir=f'{folder}/Low',
                         gt_dir=f'{folder}/Normal', gt_name=('^low', 'normal'), **kwargs)


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='LOLv2RealDataset', module=LOLv2RealDataset)
