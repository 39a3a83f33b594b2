"""The convolutions of the RDDM U-Net with their fast paths: Winograd for the wide 3x3 ones,
matrix products for the 1x1 ones, one transposed convolution for nearest upsampling + 3x3.
Every class keeps ``nn.Conv2d``'s parameters, so the state-dict keys stay the authors'."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from rf_plugins.backbones.resfusion_unet.fast_path import (FastPathMixin, autocast_off, norm_dtype,
                                                          norm_eps)
from rf_plugins.backbones.resfusion_unet.winograd import winograd_conv3x3, winograd_kernel


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


class FastConv2d(FastPathMixin, nn.Conv2d):
    """``nn.Conv2d`` whose fast path runs a 3x3 convolution (stride 1, zero padding 1) with at
    least ``winograd_min_channels`` input and output channels as Winograd F(4x4, 3x3)
    (:mod:`.winograd`), in float32 CPU inference: no gradient, no autocast, not being compiled
    or traced. There it costs a quarter of the multiply-adds and, on wide low-resolution layers,
    about half the time of oneDNN's direct convolution. ``None`` (the class default) keeps the
    direct convolution."""

    winograd_min_channels: Optional[int] = None

    def effective_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The weight the convolution applies (subclasses transform the parameter). It depends
        on the parameter alone, not on the activations' dtype, so autocast changes only the
        precision the convolution runs in."""
        return weight

    def uses_winograd(self, x: torch.Tensor) -> bool:
        """Whether this call takes the Winograd route (see the class docstring)."""
        return (self.fast and self.winograd_min_channels is not None
                and min(self.in_channels, self.out_channels) >= self.winograd_min_channels
                and self.kernel_size == (3, 3) and self.stride == (1, 1)
                and self.padding == (1, 1) and self.dilation == (1, 1) and self.groups == 1
                and self.padding_mode == 'zeros' and x.device.type == 'cpu'
                and x.dtype == torch.float32 and x.dim() == 4 and x.is_contiguous()
                and not torch.is_grad_enabled() and not torch.is_autocast_enabled('cpu')
                and not torch.compiler.is_compiling() and not torch.jit.is_tracing())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.uses_winograd(x):
            kernel = self.derived_weight(
                self.weight, lambda w: winograd_kernel(self.effective_weight(w)), 'winograd')
            return winograd_conv3x3(x, kernel, self.bias)
        return self._conv_forward(x, self.direct_weight(), self.bias)

    def direct_weight(self) -> torch.Tensor:
        """The weight for ``F.conv2d`` (cached on the fast path when it is derived)."""
        return self.weight


class WeightStandardizedConv2d(FastConv2d):
    """Conv2d whose weight is standardised per output channel (biased variance); the fast path
    standardises once while the weight stays unchanged (:meth:`FastPathMixin.derived_weight`).

    Under autocast the standardised weight is the float32 one (epsilon of the weight's dtype,
    statistics in float32), cast to the low precision by the convolution as autocast casts any
    weight: an fp32-trained network sampled with autocast, or trained with it and validated
    without, computes the same function up to rounding. (The authors take the epsilon from the
    activations' dtype, which autocast lowers: 1e-3 instead of 1e-5.)"""

    def effective_weight(self, weight: torch.Tensor) -> torch.Tensor:
        return standardize_weight(weight)

    def direct_weight(self) -> torch.Tensor:
        return self.derived_weight(self.weight, self.effective_weight, 'standardized')


def pointwise_conv(x: torch.Tensor, weight: torch.Tensor,
                   bias: Optional[torch.Tensor]) -> torch.Tensor:
    """A 1x1 convolution of a contiguous NCHW tensor as one matrix product per image. On the
    development CPU oneDNN ran the network's widest one (64 -> 384 at 256x256) at 87 GFLOP/s;
    the same product runs at 150 or more (docs/benchmarks.md)."""
    b, c, h, w = x.shape
    flat = x.reshape(b, c, h * w)
    matrix = weight.reshape(weight.shape[0], c)
    if b == 1:
        out = (torch.mm(matrix, flat[0]) if bias is None
               else torch.addmm(bias[:, None], matrix, flat[0]))[None]
    elif bias is None:
        out = torch.bmm(matrix.expand(b, *matrix.shape), flat)
    else:
        out = torch.baddbmm(bias[:, None], matrix.expand(b, *matrix.shape), flat)
    return out.view(b, -1, h, w)


class PointwiseConv2d(FastPathMixin, nn.Conv2d):
    """``nn.Conv2d(c_in, c_out, 1)`` whose fast path is :func:`pointwise_conv` (same weights and
    state-dict keys); strided inputs such as channels-last ones keep the convolution."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast and x.dim() == 4 and x.is_contiguous():
            return pointwise_conv(x, self.weight, self.bias)
        return super().forward(x)


class UpsampleConv(FastPathMixin, nn.Sequential):
    """Nearest x2 upsampling then a 3x3 conv (padding 1), as ``Sequential(Upsample, Conv2d)`` so
    that the state-dict keys stay the authors'.

    Fast path: the pair equals one stride-2 transposed 4x4 convolution whose kernel is made of
    sums of the 3x3 taps (per axis: ``[w2, w1+w2, w0+w1, w0]``). It reads the small input and
    does 4 instead of 9 multiply-adds per output pixel, without building the upsampled tensor."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode='nearest'),
                         nn.Conv2d(c_in, c_out, 3, padding=1))

    @staticmethod
    def transposed_kernel(weight: torch.Tensor) -> torch.Tensor:
        """The (in, out, 4, 4) transposed-conv kernel of a (out, in, 3, 3) conv weight."""
        taps = torch.tensor([[0., 0., 1.], [0., 1., 1.], [1., 1., 0.], [1., 0., 0.]],
                            dtype=weight.dtype, device=weight.device)
        kernel = torch.einsum('ak,oikl,bl->oiab', taps, weight, taps)
        return kernel.transpose(0, 1)  # conv_transpose2d wants (in, out, kH, kW)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fast:
            return super().forward(x)
        kernel = self.derived_weight(self[1].weight, self.transposed_kernel)
        return F.conv_transpose2d(x, kernel, self[1].bias, stride=2, padding=1)
