"""First-party plugin: ISTD shadow removal triplets in the official layout (docs/design.md §3.1)."""
from rf.datasets import PairedImageDataset

ISTD_SPLITS = ('train', 'test')


class ISTDDataset(PairedImageDataset):
    """ISTD: ``data_root/{train,test}/{train,test}_A`` (shadow images), ``_B`` (shadow masks,
    shadow = 255) and ``_C`` (shadow-free ground truth), with equal file names.

    Each sample carries the mask beside the shadow image: ``LoadRestorationImages`` reads it as
    0/255 (near-black/near-white tolerated, anything else refused with the file's name),
    ``PairedAlbumentations`` crops and flips it with the images, and the ``concat`` fuser with
    ``mask_encoding='shadow_onehot'`` turns it into two ±1 channels (3 + 3 + 2 = 8 network
    inputs). A shadow image without its mask or ground truth is an error listing the files.

    Args:
        data_root: the folder holding ``train`` and ``test``.
        split: ``'train'`` (1330 triplets) or ``'test'`` (540).
        **kwargs: as :class:`PairedImageDataset` (``pipeline``, ``hold_out_every``, ...).
    """

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs) -> None:
        if split not in ISTD_SPLITS:
            raise ValueError(f"ISTDDataset: split must be 'train' or 'test', got {split!r}.")
        self.split = split
        super().__init__(data_root=data_root, degraded_dir=f'{split}/{split}_A',
                         mask_dir=f'{split}/{split}_B', gt_dir=f'{split}/{split}_C', **kwargs)

