"""ISTD shadow-removal metrics (docs/design.md §3.3): RGB PSNR, SSIM and MAE in CIE-LAB, each over the
shadow region, the non-shadow region and the whole image.

Definitions, per image, on 0-255 RGB after quantising the restoration to uint8 (as a saved PNG):

* region ``R``: the shadow region is where the ISTD mask is 255 (``_B`` files, shadow = 255,
  as the data loader hands it over); the non-shadow region is the rest; ``all`` is every pixel.
* ``PSNR_<region>`` and ``SSIM_<region>`` by one of two protocols (``region_protocol``):

  - ``'masked_frame'`` (default, the paper's: the authors' MATLAB script, inherited from RDDM
    and DMTN): the whole-frame PSNR and SSIM of the masked images ``pred·R`` and ``gt·R``
    (pixels outside ``R`` set to 0 in both). The PSNR is the region PSNR plus
    ``10·log10(N / N_R)`` (N pixels in all, N_R in the region); the SSIM counts the zeroed
    pixels as perfect. Use it to compare with published ISTD tables.
  - ``'region'``: a true region score. ``PSNR_<region>`` = ``10·log10(255² / MSE_R)`` with
    ``MSE_R`` the mean squared difference over the 3 channels of the pixels in ``R``;
    ``SSIM_<region>`` is the SSIM map averaged over the channels, then over the pixels of ``R``
    whose 11x11 window lies inside the image (the mask cropped by 5 pixels on each side).

  Both use the SSIM of Wang et al. 2004 (Gaussian 11x11, σ = 1.5, 'valid' filtering,
  :func:`rf.metrics.functional.ssim_map`), so ``PSNR_all`` and ``SSIM_all`` are the whole-image
  scores under either protocol.
* ``MAE_LAB_<region>``: ``Σ |LAB(pred) - LAB(gt)|`` over the pixels of ``R`` and the 3 channels,
  divided by the number of pixels in ``R`` (LAB: :func:`rf.metrics.lab.rgb_to_lab`, D65).

Each key is the mean over the images (an image whose region is empty is left out of that
region's mean). With ``mae_pooling='pixel'`` the MAE is pooled over the whole test set instead
(sums over every image, divided by all their region pixels; the authors' "PP-Lab"), under the
keys ``MAE_LAB_PP_<region>``. With ``resize=256`` prediction and ground truth are resized to
256x256 (bicubic, as the other metrics) and the mask with nearest neighbour; keys end in ``_256``.
``source='input'`` scores the shadow image itself (keys end in ``_input``).

The per-region formulas are the core's generic :mod:`rf.metrics.region_scores`; the plugin's
``rf_register_modules`` registers the metric (``type='ShadowRegionMetrics'``).
"""
import logging
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from rf.metrics.image_quality import COLLECT_DEVICE, SOURCES, resize_uint8, to_uint8
from rf.metrics.lab import rgb_to_lab
from rf.metrics.region_scores import (
    masked_frame_scores,
    region_lab_error,
    region_psnr,
    region_ssim,
    resize_mask,
)

REGIONS = ('all', 'shadow', 'nonshadow')
POOLINGS = ('image', 'pixel')
REGION_PROTOCOLS = ('masked_frame', 'region')
SHADOW_VALUE = 255


def shadow_region(mask: torch.Tensor) -> torch.Tensor:
    """(H, W) or (1, H, W) mask -> (H, W) bool, True where the mask marks shadow (== 255;
    a bool mask is taken as it is)."""
    if mask.dim() == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.dim() != 2:
        raise ValueError(f'A shadow mask must be (H, W) or (1, H, W), got {tuple(mask.shape)}.')
    return mask.cpu() if mask.dtype == torch.bool else mask.cpu() == SHADOW_VALUE


def regions(shadow: torch.Tensor) -> Dict[str, torch.Tensor]:
    return {'all': torch.ones_like(shadow), 'shadow': shadow, 'nonshadow': ~shadow}


def shadow_scores(pred: torch.Tensor, gt: torch.Tensor, shadow: torch.Tensor,
                  region_protocol: str = 'masked_frame') -> dict:
    """Every region's PSNR, SSIM and LAB error sums of one uint8 (3, H, W) pair."""
    pred_lab, gt_lab = rgb_to_lab(pred), rgb_to_lab(gt)
    scores = {}
    for name, region in regions(shadow).items():
        if region_protocol == 'masked_frame':
            scores[f'PSNR_{name}'], scores[f'SSIM_{name}'] = masked_frame_scores(pred, gt, region)
        else:
            scores[f'PSNR_{name}'] = region_psnr(pred, gt, region)
            scores[f'SSIM_{name}'] = region_ssim(pred, gt, region)
        scores[f'LAB_{name}'] = region_lab_error(pred_lab, gt_lab, region)
    return scores


class ShadowRegionMetrics(BaseMetric):
    """PSNR, SSIM and LAB MAE for the shadow, non-shadow and whole image (see the module doc).

    Args:
        resize: ``None`` (original size) or the side the images are resized to (256).
        mae_pooling: ``'image'`` (mean of per-image MAEs, keys ``MAE_LAB_<region>``) or
            ``'pixel'`` (pooled over the test set, keys ``MAE_LAB_PP_<region>``).
        source: ``'pred'`` (the restoration) or ``'input'`` (the shadow image itself).
        region_protocol: ``'masked_frame'`` (the paper's, default) or ``'region'`` (see the
            module doc).

    The masks come from the batch (``data_batch['inputs']['mask']``, what
    ``PackRestorationInputs`` makes of the ``_B`` files).
    """

    default_prefix = ''

    def __init__(self, resize: Optional[int] = None, mae_pooling: str = 'image',
                 source: str = 'pred', region_protocol: str = 'masked_frame',
                 collect_device: str = COLLECT_DEVICE, prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mae_pooling not in POOLINGS:
            raise ValueError(f'ShadowRegionMetrics: mae_pooling must be one of {POOLINGS}, got '
                             f'{mae_pooling!r}.')
        if source not in SOURCES:
            raise ValueError(f'ShadowRegionMetrics: source must be one of {SOURCES}, got '
                             f'{source!r}.')
        if region_protocol not in REGION_PROTOCOLS:
            raise ValueError(f'ShadowRegionMetrics: region_protocol must be one of '
                             f'{REGION_PROTOCOLS}, got {region_protocol!r}.')
        self.region_protocol = region_protocol
        self.resize = int(resize) if resize else None
        self.mae_pooling = mae_pooling
        self.source = source

    def key(self, name: str) -> str:
        return (name + (f'_{self.resize}' if self.resize else '')
                + ('_input' if self.source == 'input' else ''))

    @staticmethod
    def _batch_part(data_batch, name: str, count: int) -> list:
        part = ((data_batch or {}).get('inputs') or {}).get(name)
        if part is None or len(part) != count:
            raise KeyError(f"ShadowRegionMetrics needs the batch's shadow masks and images in "
                           f"data_batch['inputs'] (no '{name}' for every sample): use a dataset "
                           "with masks, e.g. ISTDDataset.")
        return list(part)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        masks = self._batch_part(data_batch, 'mask', len(data_samples))
        inputs = (self._batch_part(data_batch, 'degraded', len(data_samples))
                  if self.source == 'input' else None)
        for i, sample in enumerate(data_samples):
            if 'gt' not in sample or (inputs is None and 'pred_img' not in sample):
                raise KeyError("ShadowRegionMetrics needs 'pred_img' and 'gt' in each data "
                               f'sample; got keys {sorted(sample)}.')
            image = sample['pred_img'] if inputs is None else inputs[i]
            pred = to_uint8(image) if image.is_floating_point() else image.cpu()
            gt = sample['gt'].cpu() if sample['gt'].dtype == torch.uint8 else to_uint8(sample['gt'])
            shadow = shadow_region(masks[i])
            if pred.shape != gt.shape or tuple(shadow.shape) != tuple(gt.shape[-2:]):
                raise ValueError(f'ShadowRegionMetrics: prediction {tuple(pred.shape)}, ground '
                                 f'truth {tuple(gt.shape)} and mask {tuple(shadow.shape)} of '
                                 f'{sample.get("img_id", f"sample {i}")} differ in size.')
            if self.resize:
                pred, gt = resize_uint8(pred, self.resize), resize_uint8(gt, self.resize)
                shadow = resize_mask(shadow, self.resize)
            self.results.append(shadow_scores(pred, gt, shadow, self.region_protocol))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = {}
        for kind in ('PSNR', 'SSIM'):
            for region in REGIONS:
                values = [r[f'{kind}_{region}'] for r in results
                          if not math.isnan(r[f'{kind}_{region}'])]
                metrics[self.key(f'{kind}_{region}')] = self._mean(values, f'{kind}_{region}')
        for region in REGIONS:
            sums = [r[f'LAB_{region}'] for r in results if r[f'LAB_{region}'][1] > 0]
            if self.mae_pooling == 'image':
                metrics[self.key(f'MAE_LAB_{region}')] = self._mean(
                    [total / count for total, count in sums], f'MAE_LAB_{region}')
            else:
                pixels = sum(count for _, count in sums)
                metrics[self.key(f'MAE_LAB_PP_{region}')] = (
                    sum(total for total, _ in sums) / pixels if pixels else
                    self._mean([], f'MAE_LAB_PP_{region}'))
        return metrics

    @staticmethod
    def _mean(values: List[float], name: str) -> float:
        if not values:
            print_log(f'ShadowRegionMetrics: no image has pixels for {name}; reported as nan.',
                      logger='current', level=logging.WARNING)
            return math.nan
        return float(np.mean(values))
