"""The PSNR/SSIM computations several protocols share (generic: no dataset of their own).

* :func:`skimage_scores` — ``Measure.py``'s (from LLFlow): skimage ``peak_signal_noise_ratio``
  on the uint8 RGB images (data range 255 from the dtype) and skimage ``structural_similarity``
  with its defaults per channel (7x7 uniform window, sample covariance, K 0.01/0.03), averaged
  over the channels (the script's ``multichannel=True``).
* :func:`y_scores_256` — the MATLAB ``*_256.m`` scripts': ``imresize(img, [256 256])`` on uint8,
  ``rgb2ycbcr`` Y (uint8), ``20·log10(255/RMSE)`` and the scripts' ``SSIM_index`` on Y.
"""
from typing import Dict

import numpy as np

from rf.metrics.matlab_color import rgb2ycbcr_y
from rf.metrics.matlab_imresize import imresize
from rf.metrics.matlab_quality import psnr_255, ssim_index


def skimage_scores(pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
    """``Measure.py``'s PSNR and SSIM of two uint8 RGB images."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    return {'PSNR': float(peak_signal_noise_ratio(gt, pred)),
            'SSIM': float(structural_similarity(gt, pred, channel_axis=2))}


def y_scores_256(pred: np.ndarray, gt: np.ndarray) -> Dict[str, float]:
    """The MATLAB 256 scripts' PSNR and SSIM: resize both to 256x256, Y, score."""
    pred_y = rgb2ycbcr_y(imresize(pred, (256, 256)))
    gt_y = rgb2ycbcr_y(imresize(gt, (256, 256)))
    return {'PSNR': psnr_255(pred_y, gt_y), 'SSIM': ssim_index(pred_y, gt_y)}
