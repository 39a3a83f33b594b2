"""The Raindrop protocols of ``eval/deraining_eval`` (nkicsl/Resfusion, from RDDM / MPRNet).

* ``raindrop`` — ``evaluate_PSNR_SSIM_deraining_origin.m``: the ground truth is resized to the
  prediction's size with MATLAB ``imresize`` (an identity when the sizes agree), then
  ``rgb2ycbcr`` Y (uint8), ``20·log10(255/RMSE)`` and ``SSIM_index`` on Y.
* ``raindrop_256`` — ``evaluate_PSNR_SSIM_deraining_256.m``: both resized to 256x256, then as
  above (the same computation as ``lol_256``'s PSNR/SSIM). No LPIPS in either script.

Registered by the plugin's ``rf_register_modules``.
"""
from typing import Optional

import numpy as np

from rf.metrics.matlab_color import rgb2ycbcr_y
from rf.metrics.matlab_imresize import imresize
from rf.metrics.matlab_quality import psnr_255, ssim_index
from rf.metrics.protocols.base import EvalProtocol
from rf.metrics.protocols.scores import y_scores_256


class RaindropProtocol(EvalProtocol):
    name = 'raindrop'
    follows = 'eval/deraining_eval/evaluate_PSNR_SSIM_deraining_origin.m'
    same_size = False  # the ground truth is resized to the prediction

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        gt = imresize(gt, pred.shape[:2])
        pred_y, gt_y = rgb2ycbcr_y(pred), rgb2ycbcr_y(gt)
        return {'PSNR': psnr_255(pred_y, gt_y), 'SSIM': ssim_index(pred_y, gt_y)}


class Raindrop256Protocol(EvalProtocol):
    name = 'raindrop_256'
    follows = 'eval/deraining_eval/evaluate_PSNR_SSIM_deraining_256.m'
    same_size = False

    def compute(self, pred, gt, mask: Optional[np.ndarray] = None):
        return y_scores_256(pred, gt)


PROTOCOLS = {'raindrop': RaindropProtocol, 'raindrop_256': Raindrop256Protocol}
