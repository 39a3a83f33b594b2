"""First-party plugin: CIFAR-10 from the standard python pickle batches (docs/design.md §3.1).

``data_root`` holds ``cifar-10-batches-py/`` (the extracted ``cifar-10-python.tar.gz``) or is that
folder: ``data_batch_1`` … ``data_batch_5`` (train, 50,000 images) and ``test_batch`` (10,000).
Each batch is a pickled dict with ``b'data'``, a (N, 3072) uint8 array (1024 red, then 1024
green, then 1024 blue values of a 32x32 image, row by row), and ``b'labels'``, N ints in 0..9.

The batches are read with an unpickler that builds only plain containers and numpy arrays, so a
file that pickles anything else (code) is refused instead of run.
"""
import io
import os.path as osp
import pickle
from typing import Dict, List

import numpy as np
from mmengine.dataset import BaseDataset

from rf.datasets.errors import DataError
from rf.plugins import hookimpl

FOLDER = 'cifar-10-batches-py'
SPLIT_FILES = {'train': tuple(f'data_batch_{i}' for i in range(1, 6)), 'test': ('test_batch',)}
CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship',
           'truck')
IMAGE_SIZE = 32


def _numpy_reconstruct():
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_frombuffer():
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:
        from numpy.core.numeric import _frombuffer
    return _frombuffer


# (module, name) -> the object a CIFAR batch may reference; anything else is refused.
_ALLOWED = {
    ('numpy', 'ndarray'): lambda: np.ndarray,
    ('numpy', 'dtype'): lambda: np.dtype,
    ('numpy.core.multiarray', '_reconstruct'): _numpy_reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _numpy_reconstruct,
    ('numpy.core.numeric', '_frombuffer'): _numpy_frombuffer,
    ('numpy._core.numeric', '_frombuffer'): _numpy_frombuffer,
    # How Python 3 writes bytes at protocol 2: _codecs.encode(str, 'latin1'), or bytes() if empty.
    ('_codecs', 'encode'): lambda: __import__('codecs').encode,
    ('__builtin__', 'bytes'): lambda: bytes,
    ('builtins', 'bytes'): lambda: bytes,
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f'it pickles {module}.{name}, which a CIFAR-10 batch '
                                         'never contains')
        return _ALLOWED[(module, name)]()


def _field(batch: dict, key: str):
    for candidate in (key.encode(), key):  # Python 2 pickles: bytes keys; re-pickled: str keys
        if candidate in batch:
            return batch[candidate]
    return None


def read_batch(path: str) -> Dict[str, np.ndarray]:
    """One CIFAR-10 batch file -> ``{'images': (N, 32, 32, 3) uint8 RGB, 'labels': (N,) int64}``.

    Raises:
        FileNotFoundError: the file is missing.
        DataError: the file is not a readable CIFAR-10 batch (the message says why).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'CIFAR-10 batch file {path} does not exist: data_root must hold '
                                f'{FOLDER}/ with data_batch_1..5 and test_batch (the extracted '
                                'cifar-10-python.tar.gz).')
    try:
        with open(path, 'rb') as handle:
            batch = _BatchUnpickler(io.BytesIO(handle.read()), encoding='bytes').load()
    except Exception as exc:  # truncated, not a pickle, or pickles something else
        raise DataError(f'{path} is not a readable CIFAR-10 batch ({type(exc).__name__}: '
                        f'{exc}).') from exc
    if not isinstance(batch, dict):
        raise DataError(f'{path} is not a CIFAR-10 batch: it holds a {type(batch).__name__}, '
                        "not a dict with b'data' and b'labels'.")
    data, labels = _field(batch, 'data'), _field(batch, 'labels')
    if data is None or labels is None:
        missing = [k for k, v in (("b'data'", data), ("b'labels'", labels)) if v is None]
        raise DataError(f'{path} is not a CIFAR-10 batch: it has no {" or ".join(missing)}.')
    data = np.asarray(data)
    pixels = 3 * IMAGE_SIZE * IMAGE_SIZE
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != pixels:
        raise DataError(f"{path}: b'data' must be a (N, {pixels}) uint8 array, got "
                        f'{data.dtype} {tuple(data.shape)}.')
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: b'labels' must be a list of integers ({exc}).") from exc
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(data)} images in b'data' but {len(labels)} b'labels'.")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise DataError(f"{path}: b'labels' must lie in 0..{len(CLASSES) - 1}, found "
                        f'{int(labels.min())}..{int(labels.max())}.')
    images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return {'images': np.ascontiguousarray(images), 'labels': labels}


def batches_folder(data_root: str) -> str:
    """``data_root/cifar-10-batches-py`` when it exists, else ``data_root`` itself."""
    if not data_root or not osp.isdir(data_root):
        raise FileNotFoundError(f'The CIFAR-10 data_root {data_root!r} does not exist: point it '
                                f'at the folder holding {FOLDER}/ (e.g. --cfg-options '
                                'train_dataloader.dataset.data_root=/data/cifar10).')
    nested = osp.join(data_root, FOLDER)
    return nested if osp.isdir(nested) else data_root


class CIFAR10Dataset(BaseDataset):
    """CIFAR-10 images as ``gt`` (H, W, 3) uint8 RGB, with ``label`` and ``img_id``.

    Args:
        data_root: the folder holding ``cifar-10-batches-py/`` (or that folder itself).
        split: ``'train'`` (data_batch_1..5, 50,000 images) or ``'test'`` (test_batch, 10,000).
        pipeline, indices, ...: as :class:`mmengine.dataset.BaseDataset` (``indices=1000`` takes
            the first 1000 images).

    The decoded images stay in one array in memory (150 MB for the training split).
    """

    METAINFO = dict(classes=CLASSES)

    def __init__(self, data_root: str = '', split: str = 'train', **kwargs) -> None:
        if split not in SPLIT_FILES:
            raise ValueError(f"CIFAR10Dataset: split must be 'train' or 'test', got {split!r}.")
        self.split = split
        self.images = np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        folder = batches_folder(self.data_root)
        batches = [read_batch(osp.join(folder, name)) for name in SPLIT_FILES[self.split]]
        self.images = np.concatenate([b['images'] for b in batches])
        labels = np.concatenate([b['labels'] for b in batches])
        if not len(self.images):
            raise DataError(f'The CIFAR-10 {self.split} batches in {folder} hold no images.')
        return [dict(img_id=f'{self.split}_{i:05d}', label=int(label), image_index=i)
                for i, label in enumerate(labels)]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['gt'] = self.images[info['image_index']]
        return info


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='CIFAR10Dataset', module=CIFAR10Dataset)


__all__ = ['CIFAR10Dataset', 'read_batch', 'batches_folder']
