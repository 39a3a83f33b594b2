"""The LOL protocols of ``eval/lowlight_eval`` (nkicsl/Resfusion), plus the GT-mean variant.

* ``lol`` — ``Measure.py`` (from LLFlow): skimage ``peak_signal_noise_ratio`` on the uint8 RGB
  images (data range 255 from the dtype) and skimage ``structural_similarity`` with its defaults
  per channel (7x7 uniform window, sample covariance, K 0.01/0.03), averaged over the channels
  (the script's ``multichannel=True``); LPIPS (AlexNet, v0.1) at original size on [-1, 1].
* ``lol_256`` — PSNR/SSIM of ``evaluate_PSNR_SSIM_256.m``: MATLAB ``imresize(img, [256 256])``
  on uint8, ``rgb2ycbcr`` Y (uint8), ``20·log10(255/RMSE)`` and the script's ``SSIM_index`` on Y;
  LPIPS of ``Measure_256_lpips.py`` (both images ``cv2.resize``d to 256x256, bilinear).
* ``lol_gtmean`` — not the authors': ``lol`` after scaling the prediction so its mean grey level
  (0.299 R + 0.587 G + 0.114 B) equals the ground truth's (clipped, rounded to uint8), the
  "GT-mean" numbers many LOL papers also report. Label it as such when quoting it.

The core's generic ``rgb`` protocol is ``lol``'s PSNR/SSIM without LPIPS
(:mod:`rf.metrics.protocols.rgb`). Registered by the plugin's ``rf_register_modules``.
"""
from typing import Optional

import numpy as np

from rf.metrics.protocols.base import EvalProtocol
from rf.metrics.protocols.rgb import RgbProtocol
from rf.metrics.protocols.scores import skimage_scores, y_scores_256

GREY_WEIGHTS = np.array([0.299, 0.587, 0.114])


def match_mean_grey(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` scaled so its mean grey level equals ``gt``'s (uint8, rounded, clipped)."""
    pred_mean = float((pred.astype(np.float64) @ GREY_WEIGHTS).mean())
    gt_mean = float((gt.astype(np.float64) @ GREY_WEIGHTS).mean())
    if pred_mean == 0:
        return pred
    scaled = pred.astype(np.float64) * (gt_mean / pred_mean)
    return np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)


class LolProtocol(RgbProtocol):
    """The core's ``rgb`` scores, plus LPIPS as ``Measure.py`` reports it."""
    name = 'lol'
    follows = 'eval/lowlight_eval/Measure.py'
    has_lpips = True


class Lol256Protocol(EvalProtocol):
    name = 'lol_256'
    follows = 'eval/lowlight_eval/evaluate_PSNR_SSIM_256.m (+ Measure_256_lpips.py)'
    has_lpips = True
    lpips_resize = 256
    same_size = False  # each image is resized to 256x256 on its own

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        return y_scores_256(pred, gt)


class LolGtMeanProtocol(EvalProtocol):
    name = 'lol_gtmean'
    follows = 'Measure.py after matching the mean grey level to the ground truth (GT-mean)'
    has_lpips = True

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        return skimage_scores(match_mean_grey(pred, gt), gt)

    def lpips_input(self, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
        return match_mean_grey(pred, gt)


PROTOCOLS = {'lol': LolProtocol, 'lol_256': Lol256Protocol, 'lol_gtmean': LolGtMeanProtocol}
