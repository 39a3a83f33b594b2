"""Data transforms for restoration samples (registered in ``rf.registry.TRANSFORMS``)."""
from rf.datasets.transforms.augment import PairedAlbumentations
from rf.datasets.transforms.crop import CropToMultiple
from rf.datasets.transforms.formatting import PackRestorationInputs
from rf.datasets.transforms.loading import LoadRestorationImages

__all__ = ['CropToMultiple', 'LoadRestorationImages', 'PairedAlbumentations',
           'PackRestorationInputs']
