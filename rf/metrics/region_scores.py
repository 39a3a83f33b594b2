"""Scores over a region of a frame: PSNR, SSIM and LAB error where an (H, W) bool mask is True.

Generic helpers for metrics that score parts of an image separately (the ISTD plugin's shadow
and non-shadow regions, :mod:`rf_plugins.datasets.istd.region_metrics`). Images are (3, H, W)
tensors on the 0-255 scale; an empty region scores nan.
"""
import math
from typing import Tuple

import numpy as np
import torch

from rf.metrics.functional import ssim_map


def region_psnr(pred: torch.Tensor, gt: torch.Tensor, region: torch.Tensor,
                data_range: float = 255.0) -> float:
    """PSNR from the MSE over the pixels of ``region`` (all channels); nan for an empty region,
    inf for an exact one."""
    count = int(region.sum())
    if count == 0:
        return math.nan
    squared = (pred.double() - gt.double()).square()[:, region]
    mse = squared.sum().item() / (count * pred.shape[0])
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def region_ssim(pred: torch.Tensor, gt: torch.Tensor, region: torch.Tensor,
                window: int = 11) -> float:
    """The channel-mean SSIM map averaged over the pixels of ``region`` that the 'valid' map
    covers; nan when none does."""
    values = ssim_map(pred, gt, window=window).mean(0)
    border = window // 2
    inside = region[border:region.shape[0] - border, border:region.shape[1] - border]
    if not bool(inside.any()):
        return math.nan
    return values[inside].mean().item()


def masked_frame_scores(pred: torch.Tensor, gt: torch.Tensor,
                        region: torch.Tensor) -> Tuple[float, float]:
    """(PSNR, SSIM) of the whole frames ``pred·region`` and ``gt·region`` (the authors' ISTD
    protocol); (nan, nan) for an empty region."""
    if not bool(region.any()):
        return math.nan, math.nan
    keep = region.to(pred.dtype)
    masked_pred, masked_gt = pred * keep, gt * keep
    everything = torch.ones_like(region)
    return (region_psnr(masked_pred, masked_gt, everything),
            region_ssim(masked_pred, masked_gt, everything))


def region_lab_error(pred_lab: torch.Tensor, gt_lab: torch.Tensor,
                     region: torch.Tensor) -> Tuple[float, int]:
    """``(Σ |ΔLAB| over the region's pixels and 3 channels, number of region pixels)``."""
    return (pred_lab - gt_lab).abs()[:, region].sum().item(), int(region.sum())


def resize_mask(mask: torch.Tensor, size: int) -> torch.Tensor:
    """Nearest-neighbour resize of an (H, W) bool mask to ``size x size``."""
    import mmcv
    array = mask.numpy().astype(np.uint8)
    return torch.from_numpy(mmcv.imresize(array, (size, size), interpolation='nearest') > 0)
