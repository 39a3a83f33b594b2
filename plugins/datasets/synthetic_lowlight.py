"""First-party plugin: the demo's data, real photographs darkened by a camera-like low-light model.

:class:`SkimagePhotosDataset` serves photographs that scikit-image ships (no download), as ground
truths; the :class:`SyntheticLowLight` transform makes the degraded partner at run time:
linearise sRGB, drop the exposure, add signal-dependent (shot) and signal-independent (read)
noise on the linear signal, apply a camera response gamma, quantise to 8 bits.
"""
import hashlib
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import BaseDataset

from rf.datasets.image_io import to_rgb8
from rf.plugins import hookimpl

# Distinct scenes for training and testing (the two motorcycle views are one scene: train only).
TRAIN_PHOTOS = ('astronaut', 'rocket', 'motorcycle_left', 'immunohistochemistry', 'camera',
                'brick', 'grass', 'gravel', 'coins', 'page')
TEST_PHOTOS = ('coffee', 'chelsea')


def load_skimage_photo(name: str) -> np.ndarray:
    """A scikit-image sample photograph as (H, W, 3) uint8 RGB."""
    try:
        from skimage import data
    except ImportError:
        raise ImportError('The demo dataset needs scikit-image (pip install scikit-image, or '
                          'pip install -e ".[demo]").') from None
    if name == 'motorcycle_left':
        image = data.stereo_motorcycle()[0]
    elif hasattr(data, name):
        image = getattr(data, name)()
    else:
        raise KeyError(f'scikit-image ships no sample photograph named {name!r}.')
    return to_rgb8(np.asarray(image), source=f'skimage.data.{name}')


class SkimagePhotosDataset(BaseDataset):
    """scikit-image's sample photographs as ground truths (``gt`` arrays in memory).

    Args:
        photos: names in ``skimage.data``; default: the training or test scenes of ``split``.
        split: ``'train'`` or ``'test'`` (distinct scenes).
        repeat: how many times the list is repeated (longer epochs for tiny sets).
    """

    def __init__(self, photos: Optional[Sequence[str]] = None, split: str = 'train',
                 repeat: int = 1, **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"SkimagePhotosDataset: split must be 'train' or 'test', got {split!r}.")
        self.photos = tuple(photos or (TRAIN_PHOTOS if split == 'train' else TEST_PHOTOS))
        self.repeat = int(repeat)
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        items = [dict(img_id=name, gt=load_skimage_photo(name)) for name in self.photos]
        return [dict(item) for _ in range(self.repeat) for item in items]


class SyntheticLowLight(BaseTransform):
    """Make ``results['degraded']`` from ``results['gt']`` with a camera-like low-light model.

    Args:
        exposure: range of the linear exposure factor (LOL-like darkness at 0.02-0.12).
        gamma: range of the camera response gamma applied after exposure (sRGB is ~2.2).
        shot_noise: range of the shot-noise gain (variance = gain * signal, linear scale).
        read_noise: range of the read-noise standard deviation (linear scale).
        seed: ``None`` draws from numpy's global generator (training; MMEngine seeds it per
            worker); an int makes each sample's degradation fixed by ``(seed, img_id)`` (testing).
    """

    def __init__(self, exposure: Tuple[float, float] = (0.02, 0.12),
                 gamma: Tuple[float, float] = (2.0, 2.6),
                 shot_noise: Tuple[float, float] = (1e-4, 1e-3),
                 read_noise: Tuple[float, float] = (5e-4, 3e-3), seed: Optional[int] = None) -> None:
        self.exposure, self.gamma = tuple(exposure), tuple(gamma)
        self.shot_noise, self.read_noise = tuple(shot_noise), tuple(read_noise)
        self.seed = seed

    def _generator(self, results: dict) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**31 - 1))
        digest = hashlib.sha256(str(results.get('img_id', results.get('sample_idx'))).encode())
        return np.random.default_rng([self.seed, int.from_bytes(digest.digest()[:4], 'little')])

    def degrade(self, gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        linear = (gt.astype(np.float64) / 255) ** 2.2
        signal = linear * rng.uniform(*self.exposure)
        variance = rng.uniform(*self.shot_noise) * signal + rng.uniform(*self.read_noise) ** 2
        noisy = np.clip(signal + rng.standard_normal(signal.shape) * np.sqrt(variance), 0, 1)
        response = noisy ** (1 / rng.uniform(*self.gamma))
        return np.round(response * 255).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        if results.get('gt') is None:
            raise KeyError("SyntheticLowLight needs the clean image in results['gt'].")
        results['degraded'] = self.degrade(results['gt'], self._generator(results))
        results.setdefault('ori_shape', tuple(results['gt'].shape[:2]))
        return results


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='SkimagePhotosDataset', module=SkimagePhotosDataset)
    registry.TRANSFORMS.register_module(name='SyntheticLowLight', module=SyntheticLowLight)
