"""First-party plugin: LOL-v1 low-light pairs in the official layout (docs/design.md §3.1)."""
from rf.datasets import PairedImageDataset

LOL_SPLITS = {'train': 'our485', 'test': 'eval15'}


class LOLDataset(PairedImageDataset):
    """LOL-v1: ``data_root/{our485,eval15}/{low,high}`` with equal file names.

    Args:
        data_root: the folder holding ``our485`` and ``eval15``.
        split: ``'train'`` (our485, 485 pairs) or ``'test'`` (eval15, 15 pairs).
    """

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs) -> None:
        if split not in LOL_SPLITS:
            raise ValueError(f"LOLDataset: split must be 'train' or 'test', got {split!r}.")
        folder = LOL_SPLITS[split]
        self.split = split
        super().__init__(data_root=data_root, degraded_dir=f'{folder}/low',
                         gt_dir=f'{folder}/high', **kwargs)

