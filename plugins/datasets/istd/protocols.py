"""The ISTD protocols of ``eval/shadow_removal_eval`` (nkicsl/Resfusion, from RDDM / DMTN).

Per image, with ``s`` the prediction, ``f`` the shadow-free ground truth and ``m`` the mask
file (uint8, as ``imread`` gives it):

* ``smask = m ≠ 0`` (shadow), ``nmask = m == 0`` (the scripts' ``nmask = ~m; smask = ~nmask``);
* PSNR/SSIM: MATLAB ``psnr``/``ssim`` of ``double(img)/255`` (peak and dynamic range 1) over the
  whole frame (``PSNR``, ``SSIM``) and of the frames multiplied by each mask
  (``PSNR_shadow``, ``PSNR_nonshadow``, ...: pixels outside the region are 0 in both images);
* MAE in L*a*b* (``applycform(makecform('srgb2lab'))``): ``Σ|LAB(f) - LAB(s)|`` over a region's
  pixels and the 3 channels divided by its pixel count. The scripts print it two ways, and both
  are reported: per image then averaged (``MAE_all``, ``MAE_shadow``, ``MAE_nonshadow``; the
  scripts' "PI-Lab") and pooled over the test set (``MAE_PP_*``, "PP-Lab"). The scripts do not
  say which one a paper's table takes; the Resfusion paper's table does not either.

``istd`` keeps the original size. ``istd_256`` resizes as ``evaluate_ISTD_results_256.m`` does:
for PSNR/SSIM the doubles are resized (``imresize`` on doubles: unrounded, unclipped); for the
MAE the uint8 images are resized first, then converted; the mask is resized as uint8 (bicubic,
antialiased, rounded) and ``m ≠ 0`` taken after, so the shadow region grows by the kernel's
reach. Options name the two uncertain MATLAB behaviours: ``ssim_rgb`` ('volume', MATLAB's
default for an (H, W, 3) array, or 'per_channel') and ``lab_white`` ('icc_d50', what
``makecform('srgb2lab')`` documents, or 'd65'); see :mod:`rf.metrics.matlab_quality` and
:mod:`rf.metrics.matlab_color`. Registered by the plugin's ``rf_register_modules``.
"""
import math
from typing import Dict, List, Optional

import numpy as np

from rf.metrics.matlab_color import LAB_WHITES, srgb2lab
from rf.metrics.matlab_imresize import imresize
from rf.metrics.matlab_quality import SSIM_RGB_MODES, matlab_psnr, matlab_ssim
from rf.metrics.protocols.base import EvalProtocol

REGIONS = ('all', 'shadow', 'nonshadow')


def as_mask(mask: np.ndarray) -> np.ndarray:
    """An (H, W) uint8 mask as the scripts read it (bool masks become 0/255)."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f'A shadow mask must be (H, W), got {mask.shape}.')
    return mask.astype(np.uint8) * 255 if mask.dtype == bool else mask.astype(np.uint8)


def region_masks(mask: np.ndarray) -> Dict[str, np.ndarray]:
    shadow = mask != 0
    return {'all': np.ones_like(shadow), 'shadow': shadow, 'nonshadow': ~shadow}


class IstdProtocolBase(EvalProtocol):
    needs_mask = True
    resize: Optional[int] = None

    def __init__(self, ssim_rgb: str = 'volume', lab_white: str = 'icc_d50') -> None:
        if ssim_rgb not in SSIM_RGB_MODES:
            raise ValueError(f'{self.name}: ssim_rgb must be one of {SSIM_RGB_MODES}, '
                             f'got {ssim_rgb!r}.')
        if lab_white not in LAB_WHITES:
            raise ValueError(f'{self.name}: lab_white must be one of {LAB_WHITES}, '
                             f'got {lab_white!r}.')
        self.ssim_rgb = ssim_rgb
        self.lab_white = lab_white

    def _sized(self, image: np.ndarray) -> np.ndarray:
        return image if self.resize is None else imresize(image, (self.resize, self.resize))

    def prepare_mask(self, mask: Optional[np.ndarray]) -> Optional[np.ndarray]:
        return None if mask is None else as_mask(mask)

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        regions = region_masks(self._sized(mask))
        # PSNR and SSIM: double first, then resized (zhu_cvpr2022's order, as the scripts say).
        s, f = self._sized(pred / 255.0), self._sized(gt / 255.0)
        scores = {}
        for name, region in regions.items():
            key = '' if name == 'all' else f'_{name}'
            if not region.any():
                scores[f'PSNR{key}'] = scores[f'SSIM{key}'] = math.nan
                continue
            keep = region[..., None].astype(np.float64)
            scores[f'PSNR{key}'] = matlab_psnr(s * keep, f * keep)
            scores[f'SSIM{key}'] = matlab_ssim(s * keep, f * keep, rgb=self.ssim_rgb)
        # MAE: resized as uint8 first, then double (fu_cvpr2021's order).
        distance = np.abs(srgb2lab(self._sized(gt) / 255.0, self.lab_white)
                          - srgb2lab(self._sized(pred) / 255.0, self.lab_white))
        for name, region in regions.items():
            total, pixels = float(distance[region].sum()), int(region.sum())
            scores[f'MAE_{name}'] = total / pixels if pixels else math.nan
            scores[f'_sum_{name}'], scores[f'_pixels_{name}'] = total, pixels
        return scores

    def summarize(self, per_image: List[Dict[str, float]]) -> Dict[str, float]:
        summary = super().summarize(per_image)
        for name in REGIONS:
            pixels = sum(r[f'_pixels_{name}'] for r in per_image)
            summary[f'MAE_PP_{name}'] = (sum(r[f'_sum_{name}'] for r in per_image) / pixels
                                         if pixels else math.nan)
        return summary


class IstdProtocol(IstdProtocolBase):
    name = 'istd'
    follows = 'eval/shadow_removal_eval/evaluate_ISTD_results_origin.m'


class Istd256Protocol(IstdProtocolBase):
    name = 'istd_256'
    follows = 'eval/shadow_removal_eval/evaluate_ISTD_results_256.m'
    resize = 256
    same_size = False


PROTOCOLS = {'istd': IstdProtocol, 'istd_256': Istd256Protocol}
