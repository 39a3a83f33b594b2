"""PSNR, SSIM and MAE as MMEngine metrics, with the paper's two protocols (docs/design.md §3.3).

``channel='rgb'`` or ``'y'`` (BT.601 luma); ``resize=None`` (original resolution) or an int
(output and ground truth resized to ``resize x resize``, bicubic, after quantising to uint8).
The restored image is quantised to uint8 first, as a saved PNG would be.
``source='input'`` scores the degraded input instead of the restoration (the paper's "Input
Image" row), under the key ``<name>_input``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from rf.metrics import functional
from rf.registry import METRICS

CHANNELS = ('rgb', 'y')
# Per-image results are gathered over the process group (MMEngine's 'gpu' mode: all_gather_object,
# which gloo runs too), not through a temporary folder ('cpu' mode), which a run across several
# machines would need on a shared filesystem.
COLLECT_DEVICE = 'gpu'
SOURCES = ('pred', 'input')


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """Float (C, H, W) in [0, 1] -> uint8 on 0-255, rounded."""
    return (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()


def resize_uint8(image: torch.Tensor, size: int) -> torch.Tensor:
    import mmcv  # optional at import time: only the resized protocol needs it
    array = mmcv.imresize(image.permute(1, 2, 0).numpy(), (size, size), interpolation='bicubic')
    if array.ndim == 2:
        array = array[..., None]
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)


class ImageQualityMetric(BaseMetric):
    """Shared plumbing: pick prediction and ground truth, apply the protocol, average per image."""

    formula = None
    name = ''
    default_prefix = ''  # keys are self-describing (PSNR_Y_256); a prefix is optional

    def __init__(self, channel: str = 'rgb', resize: Optional[int] = None, source: str = 'pred',
                 collect_device: str = COLLECT_DEVICE, prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if channel not in CHANNELS:
            raise ValueError(f'{type(self).__name__}: channel must be one of {CHANNELS}, '
                             f'got {channel!r}.')
        if source not in SOURCES:
            raise ValueError(f'{type(self).__name__}: source must be one of {SOURCES}, '
                             f'got {source!r}.')
        self.channel = channel
        self.resize = resize
        self.source = source

    @property
    def key(self) -> str:
        suffix = '' if self.channel == 'rgb' else '_Y'
        return (f'{self.name}{suffix}' + (f'_{self.resize}' if self.resize else '')
                + ('_input' if self.source == 'input' else ''))

    def prepare(self, pred: torch.Tensor, gt: torch.Tensor):
        pred = to_uint8(pred) if pred.is_floating_point() else pred.cpu()
        gt = gt.cpu() if gt.dtype == torch.uint8 else to_uint8(gt)
        if pred.shape != gt.shape:
            raise ValueError(f'{type(self).__name__}: prediction {tuple(pred.shape)} and ground '
                             f'truth {tuple(gt.shape)} differ in shape.')
        if self.resize:
            pred, gt = resize_uint8(pred, self.resize), resize_uint8(gt, self.resize)
        if self.channel == 'y':
            return functional.rgb_to_y(pred), functional.rgb_to_y(gt)
        return pred, gt

    def _inputs(self, data_batch, count: int) -> list:
        degraded = ((data_batch or {}).get('inputs') or {}).get('degraded')
        if degraded is None or len(degraded) != count:
            raise KeyError(f"{type(self).__name__}(source='input') needs the batch's raw "
                           "'degraded' images in data_batch['inputs'].")
        return list(degraded)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        inputs = self._inputs(data_batch, len(data_samples)) if self.source == 'input' else None
        for i, sample in enumerate(data_samples):
            if 'gt' not in sample or (inputs is None and 'pred_img' not in sample):
                raise KeyError(f"{type(self).__name__} needs 'pred_img' and 'gt' in each data "
                               f"sample; got keys {sorted(sample)}.")
            image = sample['pred_img'] if inputs is None else inputs[i]
            pred, gt = self.prepare(image, sample['gt'])
            self.results.append(type(self).formula(pred, gt))

    def compute_metrics(self, results: List[float]) -> Dict[str, float]:
        return {self.key: float(np.mean(results))}


@METRICS.register_module()
class PSNR(ImageQualityMetric):
    """Peak signal-to-noise ratio in dB on the 0-255 scale."""

    formula = staticmethod(functional.psnr)
    name = 'PSNR'


@METRICS.register_module()
class SSIM(ImageQualityMetric):
    """Structural similarity (Gaussian 11x11, σ = 1.5), mean over channels."""

    formula = staticmethod(functional.ssim)
    name = 'SSIM'


@METRICS.register_module()
class MAE(ImageQualityMetric):
    """Mean absolute error on the 0-255 scale."""

    formula = staticmethod(functional.mae)
    name = 'MAE'
