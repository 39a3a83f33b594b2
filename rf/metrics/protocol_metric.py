"""Any evaluation protocol as an MMEngine metric: the paper's numbers during training and testing.

Keys are ``<score>@<protocol>`` (``PSNR@lol_256``, ``MAE_shadow@istd``), so a log line says which
script a number follows; ``source='input'`` scores the degraded input instead (the tables'
"Input" row): ``PSNR_input@lol``. The prediction is quantised as the authors' PNGs were
(``quantize='floor'``, truncation; ``'round'`` to the nearest value); the ground truth, which
comes from 8-bit files, is recovered exactly. Per-image scores are gathered across ranks and
summarised once, as :mod:`tools/score.py <rf.metrics.protocol_scoring>` does for folders.
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from rf.metrics.image_quality import COLLECT_DEVICE
from rf.metrics.protocol_scoring import ProtocolScorer
from rf.metrics.protocols.base import QUANTIZE_MODES, EvalProtocol, quantize
from rf.registry import METRICS

SOURCES = ('pred', 'input')


def mask_array(mask: torch.Tensor) -> np.ndarray:
    """A batch's (1, H, W) or (H, W) shadow mask (0/255 or bool) -> (H, W) uint8."""
    mask = mask.detach().cpu()
    if mask.dim() == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.dtype == torch.bool:
        return mask.numpy().astype(np.uint8) * 255
    return mask.double().round().clamp(0, 255).numpy().astype(np.uint8)


@METRICS.register_module()
class ProtocolMetric(BaseMetric):
    """The scores of one evaluation protocol (see :mod:`rf.metrics.protocols`).

    Args:
        protocol: a registered name (the core's ``'rgb'``, the default; the dataset plugins'
            ``'lol'``, ``'lol_256'``, ``'lol_gtmean'``, ``'raindrop'``, ``'raindrop_256'``,
            ``'istd'``, ``'istd_256'``) or a config dict with options.
        quantize: ``'floor'`` (the authors' truncation, default) or ``'round'``.
        lpips: ``'auto'`` (when weights are there), True (required) or False (never; the default,
            keeps validation fast). Only protocols whose script reports LPIPS compute it.
        source: ``'pred'`` or ``'input'`` (the degraded input's scores).
    """

    default_prefix = ''

    def __init__(self, protocol: Union[str, dict, EvalProtocol] = 'rgb', quantize: str = 'floor',
                 lpips: Union[bool, str] = False, source: str = 'pred',
                 device: Optional[str] = None, collect_device: str = COLLECT_DEVICE,
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if quantize not in QUANTIZE_MODES:
            raise ValueError(f'ProtocolMetric: quantize must be one of {QUANTIZE_MODES}, '
                             f'got {quantize!r}.')
        if source not in SOURCES:
            raise ValueError(f'ProtocolMetric: source must be one of {SOURCES}, got {source!r}.')
        self.scorer = ProtocolScorer(protocol, lpips=lpips, device=device)
        self.quantize = quantize
        self.source = source

    def _batch_part(self, data_batch, name: str, count: int) -> list:
        part = ((data_batch or {}).get('inputs') or {}).get(name)
        if part is None or len(part) != count:
            raise KeyError(f"ProtocolMetric({self.scorer.name!r}) needs the batch's '{name}' for "
                           "every sample in data_batch['inputs']"
                           + (' (a dataset with shadow masks, e.g. ISTDDataset).'
                              if name == 'mask' else '.'))
        return list(part)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        count = len(data_samples)
        inputs = self._batch_part(data_batch, 'degraded', count) if self.source == 'input' \
            else None
        masks = self._batch_part(data_batch, 'mask', count) \
            if self.scorer.protocol.needs_mask else None
        for i, sample in enumerate(data_samples):
            if 'gt' not in sample or (inputs is None and 'pred_img' not in sample):
                raise KeyError(f"ProtocolMetric needs 'pred_img' and 'gt' in each data sample; "
                               f'got keys {sorted(sample)}.')
            image = sample['pred_img'] if inputs is None else inputs[i]
            pred = quantize(image, self.quantize)
            gt = quantize(sample['gt'], 'round')  # 8-bit values stored as floats: exact
            mask = None if masks is None else mask_array(masks[i])
            self.results.append(self.scorer.score(pred, gt, mask))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        suffix = '_input' if self.source == 'input' else ''
        return {f'{key}{suffix}@{self.scorer.name}': value
                for key, value in self.scorer.summarize(results).items()}
