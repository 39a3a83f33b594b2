"""The two convolutions of the RDDM U-Net that are more than ``nn.Conv2d``, written literally.

Both keep ``nn.Conv2d``'s parameters under the authors' names; their fast twins are in
:mod:`.fast.convolutions`."""
from typing import Optional

import torch
from torch import nn

from rf_plugins.backbones.resfusion_unet.precision import autocast_off, norm_dtype, norm_eps


def standardize_weight(weight: torch.Tensor, eps: Optional[float] = None) -> torch.Tensor:
    """``(w - mean) / sqrt(var + eps)`` per output channel, biased variance, in the weight's
    dtype. ``eps`` defaults to :func:`.norm_eps` of the weight's dtype, so autocast does not
    change it; the statistics are computed in :func:`.norm_dtype` (float32 for fp16/bf16
    weights) without autocast, and a float32 weight goes through exactly the operations it
    always did."""
    if eps is None:
        eps = norm_eps(weight.dtype)
    with autocast_off(weight.device.type):
        wide = weight.to(norm_dtype(weight.dtype))
        dims = tuple(range(1, wide.dim()))
        var, mean = torch.var_mean(wide, dim=dims, correction=0, keepdim=True)
        return ((wide - mean) * torch.rsqrt(var + eps)).to(weight.dtype)


class WeightStandardizedConv2d(nn.Conv2d):
    """A convolution with a standardised weight (Qiao et al., 2019), as the paper's blocks use:

        y = conv(x, (W - mean(W)) / sqrt(var(W) + eps)) + b,

    mean and (biased) variance taken per output channel over its input channels and taps.

    Under autocast the standardised weight is the float32 one (epsilon of the weight's dtype,
    statistics in float32), cast to the low precision by the convolution as autocast casts any
    weight: an fp32-trained network sampled with autocast, or trained with it and validated
    without, computes the same function up to rounding. (The authors take the epsilon from the
    activations' dtype, which autocast lowers: 1e-3 instead of 1e-5.)"""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, standardize_weight(self.weight), self.bias)


class UpsampleConv(nn.Sequential):
    """Nearest x2 upsampling, then a 3x3 convolution (padding 1): the paper's upsampling step,
    a ``Sequential(Upsample, Conv2d)`` as in the authors' code, so that the state-dict keys are
    theirs (``1.weight``, ``1.bias``)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode='nearest'),
                         nn.Conv2d(c_in, c_out, 3, padding=1))
