"""Paired augmentation through albumentations: one random draw applied to every image of a sample."""
from typing import List, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from rf.datasets.errors import DataError
from rf.registry import TRANSFORMS


def build_albumentation(cfg: dict):
    """``dict(type='RandomCrop', height=256, width=256)`` -> ``albumentations.RandomCrop(...)``."""
    import albumentations
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    transform_cls = getattr(albumentations, str(name), None)
    if transform_cls is None:
        raise KeyError(f'PairedAlbumentations: albumentations has no transform {name!r}.')
    return transform_cls(**cfg)


@TRANSFORMS.register_module()
class PairedAlbumentations(BaseTransform):
    """Apply an albumentations pipeline identically to the degraded image, the target and the mask.

    Args:
        transforms: albumentations transforms as config dicts, e.g.
            ``[dict(type='RandomCrop', height=256, width=256), dict(type='HorizontalFlip', p=0.5)]``.
        image_keys: keys augmented as images (the first is albumentations' ``image``).
        mask_keys: keys augmented as masks (nearest interpolation, no colour changes).

    Spatial transforms see one random draw for all keys, so crops and flips stay aligned. An image
    smaller than a ``RandomCrop`` is refused with the file's name. Albumentations seeds itself
    from the OS unless told otherwise; here every call is seeded from numpy's global generator,
    which MMEngine seeds (per worker), so a seeded run makes the same crops every time.
    """

    def __init__(self, transforms: List[dict], image_keys: Sequence[str] = ('degraded', 'gt'),
                 mask_keys: Sequence[str] = ('mask',)) -> None:
        import albumentations
        self.transform_cfgs = [dict(t) for t in transforms]
        self.image_keys = tuple(image_keys)
        self.mask_keys = tuple(mask_keys)
        extra = {key: 'image' for key in self.image_keys[1:]}
        extra.update({key: 'mask' for key in self.mask_keys})
        self.pipeline = albumentations.Compose(
            [build_albumentation(cfg) for cfg in self.transform_cfgs], additional_targets=extra)
        self.crop_sizes = [(cfg['height'], cfg['width']) for cfg in self.transform_cfgs
                           if cfg.get('type') == 'RandomCrop']

    def transform(self, results: dict) -> dict:
        first = self.image_keys[0]
        if results.get(first) is None:
            raise KeyError(f"PairedAlbumentations: the sample has no '{first}' image "
                           '(load it first with LoadRestorationImages).')
        height, width = results[first].shape[:2]
        for crop_h, crop_w in self.crop_sizes:
            if height < crop_h or width < crop_w:
                raise DataError(f'{results.get(f"{first}_path", first)} is {width}x{height} '
                                 f'(W x H), smaller than the {crop_w}x{crop_h} training crop.')
        named = {'image': results[first]}
        named.update({key: results[key] for key in self.image_keys[1:] + self.mask_keys
                      if results.get(key) is not None})
        self.pipeline.set_random_seed(int(np.random.randint(0, 2**31 - 1)))
        out = self.pipeline(**named)
        results[first] = out['image']
        for key in self.image_keys[1:] + self.mask_keys:
            if results.get(key) is not None:
                results[key] = out[key]
        results['img_shape'] = tuple(results[first].shape[:2])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transform_cfgs})'
