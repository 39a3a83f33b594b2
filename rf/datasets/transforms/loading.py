"""Load the images of a restoration sample (degraded, ground truth, mask) from their paths."""
import warnings
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from rf.datasets.errors import DataError
from rf.datasets.image_io import LossyConversionWarning, read_mask, read_rgb
from rf.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadRestorationImages(BaseTransform):
    """Read ``results[f'{key}_path']`` into ``results[key]`` for each key present.

    Images become (H, W, 3) uint8 RGB, masks (H, W) uint8 in {0, ``mask_value``}: a file's
    near-white pixels (:func:`read_mask` binarises JPEG noise and soft edges) become
    ``mask_value``, 255 by default, which keeps the files' own convention (ISTD: shadow = 255)
    that the ``concat`` fuser's ``shadow_onehot`` encoding and the ISTD metrics expect
    (docs/design.md §2.3: ``mask == 255``). A key whose array is already
    in ``results`` (in-memory datasets) is left as it is. Pairs of different sizes are refused
    with both file names. Lossy conversions to 8-bit RGB (16-bit depth, transparency) are
    reported once per dataset (per loader process), with the first file as the example.

    Args:
        keys: the images to load (``results[f'{key}_path']``).
        mask_keys: which of them are masks.
        mask_value: the value of a mask's white pixels (1..255; 255 by default).
        cache: keep every decoded image in memory (per loader process) and hand out copies,
            so each file is decoded once per run: worth it when the dataset fits in memory
            and decoding is a visible share of the step (large PNGs, small networks).
    """

    def __init__(self, keys: Sequence[str] = ('degraded', 'gt', 'mask'),
                 mask_keys: Sequence[str] = ('mask',), cache: bool = False,
                 mask_value: int = 255) -> None:
        if not 1 <= int(mask_value) <= 255:
            raise ValueError(f'LoadRestorationImages: mask_value must be in 1..255, got '
                             f'{mask_value!r}.')
        self.keys = tuple(keys)
        self.mask_keys = tuple(mask_keys)
        self.mask_value = int(mask_value)
        self.cache = bool(cache)
        self._decoded = {}
        self._lossy_reported = False

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            path = results.get(f'{key}_path')
            if key in results or path is None:
                continue
            results[key] = self._load(path, key in self.mask_keys)
        present = [k for k in self.keys if results.get(k) is not None]
        if present:
            first = present[0]
            size = results[first].shape[:2]
            for key in present[1:]:
                if results[key].shape[:2] != size:
                    raise DataError(
                        f'{results.get(f"{first}_path", first)} is {size[1]}x{size[0]} but '
                        f'{results.get(f"{key}_path", key)} is '
                        f'{results[key].shape[1]}x{results[key].shape[0]} (W x H): a pair must '
                        'have one size.')
            results['ori_shape'] = tuple(size)
        return results

    def _load(self, path: str, is_mask: bool):
        if not self.cache:
            return self._read_mask(path) if is_mask else self._read(path)
        if path not in self._decoded:
            self._decoded[path] = self._read_mask(path) if is_mask else self._read(path)
        return self._decoded[path].copy()

    def _read_mask(self, path: str):
        return read_mask(path) * np.uint8(self.mask_value)

    def _read(self, path: str):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', LossyConversionWarning)
            image = read_rgb(path)
        lossy = [w for w in caught if issubclass(w.category, LossyConversionWarning)]
        if lossy and not self._lossy_reported:
            self._lossy_reported = True
            warnings.warn(f'{lossy[0].message} Other lossy conversions in this dataset are not '
                          'reported.', LossyConversionWarning, stacklevel=2)
        for other in caught:
            if not issubclass(other.category, LossyConversionWarning):
                warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
        return image

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keys={self.keys}, cache={self.cache})'
