"""The generic ``rgb`` protocol: RGB PSNR/SSIM at original size, no LPIPS.

The same PSNR/SSIM as the LOL plugin's ``lol`` (:func:`~rf.metrics.protocols.scores.skimage_scores`):
what the authors' training scripts select checkpoints by (every task; the paper configs'
validation). Dataset-named protocols (``lol``, ``istd``, ``raindrop``, ...) live in their
dataset's plugin under ``rf_plugins.datasets``.
"""
from typing import Optional

import numpy as np

from rf.metrics.protocols.base import EvalProtocol
from rf.metrics.protocols.scores import skimage_scores
from rf.registry import EVAL_PROTOCOLS


@EVAL_PROTOCOLS.register_module(name='rgb')
class RgbProtocol(EvalProtocol):
    name = 'rgb'
    follows = "RGB PSNR/SSIM at original size (skimage), the authors' model selection"
    has_lpips = False

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        return skimage_scores(pred, gt)
