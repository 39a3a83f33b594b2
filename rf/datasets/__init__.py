"""Generic data plumbing: image I/O, the paired-folder dataset and restoration transforms.

Concrete datasets (LOL, the demo's synthetic low-light set, ...) are first-party plugins.
"""
from rf.datasets.paired_folder import PairedImageDataset
from rf.datasets.transforms import LoadRestorationImages, PackRestorationInputs, PairedAlbumentations

__all__ = ['PairedImageDataset', 'LoadRestorationImages', 'PackRestorationInputs',
           'PairedAlbumentations']
