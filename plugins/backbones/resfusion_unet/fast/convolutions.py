"""The fast twins of the U-Net's convolutions: Winograd for the wide 3x3 ones, one matrix
product per image for the 1x1 ones, standardised weights computed once, and nearest upsampling
+ 3x3 as one transposed convolution. Same parameters as the literal modules."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from rf_plugins.backbones.resfusion_unet.convolutions import (
    UpsampleConv,
    WeightStandardizedConv2d,
    standardize_weight,
)
from rf_plugins.backbones.resfusion_unet.fast.base import FastModule
from rf_plugins.backbones.resfusion_unet.fast.winograd import winograd_conv3x3, winograd_kernel


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


class FastConv2d(FastModule, nn.Conv2d, literal=nn.Conv2d):
    """The twin of ``nn.Conv2d`` (every plain convolution of the U-Net):

    * a 1x1 convolution (stride 1, no padding) of a contiguous input is :func:`pointwise_conv`;
      strided inputs such as channels-last ones keep the convolution;
    * a 3x3 convolution (stride 1, zero padding 1) with at least ``winograd_min_channels``
      input and output channels runs as Winograd F(4x4, 3x3) (:mod:`.winograd`) in float32 CPU
      inference: no gradient, no autocast, not being compiled or traced. There it costs a
      quarter of the multiply-adds and, on wide low-resolution layers, about half the time of
      oneDNN's direct convolution. ``None`` (the class default) keeps the direct convolution;
    * any other convolution is the direct one, as ``nn.Conv2d`` computes it."""

    fast_state = ('_derived', 'winograd_min_channels')
    winograd_min_channels: Optional[int] = None

    def effective_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The weight the convolution applies (subclasses transform the parameter). It depends
        on the parameter alone, not on the activations' dtype, so autocast changes only the
        precision the convolution runs in."""
        return weight

    def direct_weight(self) -> torch.Tensor:
        """The weight for ``F.conv2d`` (cached when it is derived)."""
        return self.weight

    def uses_winograd(self, x: torch.Tensor) -> bool:
        """Whether this call takes the Winograd route (see the class docstring)."""
        return (self.winograd_min_channels is not None
                and min(self.in_channels, self.out_channels) >= self.winograd_min_channels
                and self.kernel_size == (3, 3) and self.stride == (1, 1)
                and self.padding == (1, 1) and self.dilation == (1, 1) and self.groups == 1
                and self.padding_mode == 'zeros' and x.device.type == 'cpu'
                and x.dtype == torch.float32 and x.dim() == 4 and x.is_contiguous()
                and not torch.is_grad_enabled() and not torch.is_autocast_enabled('cpu')
                and not torch.compiler.is_compiling() and not torch.jit.is_tracing())

    def is_pointwise(self, x: torch.Tensor) -> bool:
        """Whether this call is one matrix product per image (see the class docstring)."""
        return (self.kernel_size == (1, 1) and self.stride == (1, 1) and self.padding == (0, 0)
                and self.groups == 1 and x.dim() == 4 and x.is_contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.uses_winograd(x):
            kernel = self.derived_weight(
                self.weight, lambda w: winograd_kernel(self.effective_weight(w)), 'winograd')
            return winograd_conv3x3(x, kernel, self.bias)
        if self.is_pointwise(x):
            return pointwise_conv(x, self.direct_weight(), self.bias)
        return self._conv_forward(x, self.direct_weight(), self.bias)


class FastWeightStandardizedConv2d(FastConv2d, WeightStandardizedConv2d,
                                   literal=WeightStandardizedConv2d):
    """The twin of :class:`.WeightStandardizedConv2d`: the standardised weight is computed once
    while the weight stays unchanged (:meth:`.FastModule.derived_weight`), and wide layers take
    the Winograd route of :class:`FastConv2d` with the standardised weight."""

    def effective_weight(self, weight: torch.Tensor) -> torch.Tensor:
        return standardize_weight(weight)

    def direct_weight(self) -> torch.Tensor:
        return self.derived_weight(self.weight, self.effective_weight, 'standardized')


class FastUpsampleConv(FastModule, UpsampleConv, literal=UpsampleConv):
    """The twin of :class:`.UpsampleConv`. Nearest x2 upsampling then a 3x3 conv equals one
    stride-2 transposed 4x4 convolution whose kernel is made of sums of the 3x3 taps (per axis:
    ``[w2, w1+w2, w0+w1, w0]``). It reads the small input and does 4 instead of 9 multiply-adds
    per output pixel, without building the upsampled tensor."""

    @staticmethod
    def transposed_kernel(weight: torch.Tensor) -> torch.Tensor:
        """The (in, out, 4, 4) transposed-conv kernel of a (out, in, 3, 3) conv weight."""
        taps = torch.tensor([[0., 0., 1.], [0., 1., 1.], [1., 1., 0.], [1., 0., 0.]],
                            dtype=weight.dtype, device=weight.device)
        kernel = torch.einsum('ak,oikl,bl->oiab', taps, weight, taps)
        return kernel.transpose(0, 1)  # conv_transpose2d wants (in, out, kH, kW)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.derived_weight(self[1].weight, self.transposed_kernel)
        return F.conv_transpose2d(x, kernel, self[1].bias, stride=2, padding=1)
