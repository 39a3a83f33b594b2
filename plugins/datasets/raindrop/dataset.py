"""First-party plugin: Raindrop removal pairs in the official layout (docs/design.md §3.1)."""
from rf.datasets import PairedImageDataset

RAINDROP_SPLITS = {'train': 'train', 'test': 'test_a', 'test_a': 'test_a', 'test_b': 'test_b'}


class RaindropDataset(PairedImageDataset):
    """Raindrop (Qian et al., CVPR 2018): ``data_root/{train,test_a,test_b}/{data,gt}`` with
    ``N_rain.png`` (degraded) paired with ``N_clean.png`` (ground truth, any extension).

    Evaluation cuts the images to multiples of 16 (``CropToMultiple`` in the pipeline,
    ``configs/_base_/datasets/raindrop.py``). A rainy image without its clean partner is an
    error listing the files.

    Args:
        data_root: the folder holding ``train`` and ``test_a`` (and ``test_b``).
        split: ``'train'`` (861 pairs), ``'test'`` or ``'test_a'`` (58), ``'test_b'`` (249).
        **kwargs: as :class:`PairedImageDataset` (``pipeline``, ``hold_out_every``, ...).
    """

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs) -> None:
        if split not in RAINDROP_SPLITS:
            raise ValueError(f'RaindropDataset: split must be one of {sorted(RAINDROP_SPLITS)}, '
                             f'got {split!r}.')
        folder = RAINDROP_SPLITS[split]
        self.split = split
        super().__init__(data_root=data_root, degraded_dir=f'{folder}/data',
                         gt_dir=f'{folder}/gt', gt_name=('_rain$', '_clean'), **kwargs)

