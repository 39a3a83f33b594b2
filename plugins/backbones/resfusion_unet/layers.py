"""Building blocks of the RDDM U-Net that Resfusion uses (names match the authors' state dict)."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from rf_plugins.backbones.resfusion_unet.winograd import winograd_conv3x3, winograd_kernel


def norm_eps(dtype: torch.dtype) -> float:
    """1e-5 in float32/float64; 1e-3 below (fp16/bf16), where 1e-5 underflows the variance."""
    return 1e-5 if dtype in (torch.float32, torch.float64) else 1e-3


class FastPathMixin:
    """A ``fast`` switch (set by :meth:`ResfusionUNet.set_fast_path`): on, a module takes the
    shortcuts that leave its output equal to the plain formulation up to rounding; off, it computes
    DESIGN §2 literally, as the authors' code does (the reference for benchmarks and tests)."""

    fast = True
    _derived = None

    @staticmethod
    def may_overwrite() -> bool:
        """In-place ops are safe only when autograd keeps no inputs for a backward pass."""
        return not torch.is_grad_enabled()

    def derived_weight(self, weight: torch.Tensor, compute, tag=None) -> torch.Tensor:
        """``compute(weight)``, computed once on the fast path while the weight is unchanged and
        needs no gradient (sampling runs T' network calls on the same weights). The cache is
        keyed on the weight's version counter and storage, so an optimizer step,
        ``load_state_dict`` or ``.to()`` invalidates it."""
        if (not self.fast or (torch.is_grad_enabled() and weight.requires_grad)
                or torch.compiler.is_compiling()):  # a compiled graph fuses it instead
            return compute(weight)
        try:
            key = (weight._version, weight.data_ptr(), weight.device, weight.dtype, tag)
        except RuntimeError:  # an inference-mode tensor has no version counter
            return compute(weight)
        if self._derived is None or self._derived[0] != key:
            with torch.no_grad():
                self._derived = (key, compute(weight))
        return self._derived[1]


def standardize_weight(weight: torch.Tensor, eps: float) -> torch.Tensor:
    """``(w - mean) / sqrt(var + eps)`` per output channel, biased variance."""
    dims = tuple(range(1, weight.dim()))
    var, mean = torch.var_mean(weight, dim=dims, correction=0, keepdim=True)
    return (weight - mean) * torch.rsqrt(var + eps)


class WeightStandardizedConv2d(FastPathMixin, nn.Conv2d):
    """Conv2d whose weight is standardised per output channel (biased variance); the fast path
    standardises once while the weight stays unchanged (:meth:`FastPathMixin.derived_weight`).

    On the fast path, a 3x3 convolution with at least ``winograd_min_channels`` input and output
    channels runs as Winograd F(4x4, 3x3) in float32 CPU inference (no gradient, not being
    compiled): there it costs a quarter of the multiply-adds, and on wide, low-resolution
    layers about 2x less time than oneDNN's direct convolution. ``None`` turns it off."""

    winograd_min_channels: Optional[int] = None

    def uses_winograd(self, x: torch.Tensor) -> bool:
        """Whether this call takes the Winograd route (see the class docstring)."""
        return (self.fast and self.winograd_min_channels is not None
                and min(self.in_channels, self.out_channels) >= self.winograd_min_channels
                and self.kernel_size == (3, 3) and self.stride == (1, 1)
                and self.padding == (1, 1) and self.dilation == (1, 1) and self.groups == 1
                and x.device.type == 'cpu' and x.dtype == torch.float32 and x.dim() == 4
                and x.is_contiguous() and not torch.is_grad_enabled()
                and not torch.compiler.is_compiling())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = norm_eps(x.dtype)
        if self.uses_winograd(x):
            kernel = self.derived_weight(
                self.weight, lambda w: winograd_kernel(standardize_weight(w, eps)), 'winograd')
            return winograd_conv3x3(x, kernel, self.bias)
        weight = self.derived_weight(self.weight, lambda w: standardize_weight(w, eps), eps)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


def pointwise_conv(x: torch.Tensor, weight: torch.Tensor,
                   bias: Optional[torch.Tensor]) -> torch.Tensor:
    """A 1x1 convolution of a contiguous NCHW tensor as one matrix product per image: on CPUs
    oneDNN's 1x1 convolution runs at half the speed of the same product."""
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


def channel_mean(flat: torch.Tensor) -> torch.Tensor:
    """Mean over dim 1 of (B, C, N) as a (1, C) x (C, N) product: a strided reduction over
    channels runs at a fraction of memory speed on CPUs, the product at full speed."""
    weights = flat.new_full((1, flat.shape[1]), 1.0 / flat.shape[1])
    return torch.matmul(weights, flat)


class ChannelLayerNorm(FastPathMixin, nn.Module):
    """LayerNorm over channels at each pixel, with a gain ``g`` of shape (1, C, 1, 1) and no bias."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = norm_eps(x.dtype)
        if not self.fast:
            var = x.var(dim=1, unbiased=False, keepdim=True)
            mean = x.mean(dim=1, keepdim=True)
            return (x - mean) * torch.rsqrt(var + eps) * self.g
        flat = x.reshape(*x.shape[:2], -1)
        centred = flat - channel_mean(flat)
        var = channel_mean(centred * centred)
        if self.may_overwrite():
            return centred.mul_(var.add_(eps).rsqrt_()).view_as(x).mul_(self.g)
        return (centred * torch.rsqrt(var + eps)).view_as(x) * self.g


class PreNorm(nn.Module):
    """``fn(ChannelLayerNorm(x))``."""

    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = ChannelLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(FastPathMixin, nn.Module):
    """``x + fn(x)``."""

    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast and self.may_overwrite():
            return self.fn(x).add_(x)
        return x + self.fn(x)


class SinusoidalPosEmb(nn.Module):
    """Transformer-style embedding of the step: half sines, half cosines, no learned weights."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        if dim % 2 or dim < 4:
            raise ValueError(f'SinusoidalPosEmb needs an even dim >= 4, got {dim}.')
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32)
                          * -(math.log(10000) / (half - 1)))
        angles = t.float()[:, None] * freqs[None, :]
        return torch.cat((angles.sin(), angles.cos()), dim=-1)


class Block(FastPathMixin, nn.Module):
    """WS-conv3x3 -> GroupNorm -> optional ``x·(scale+1)+shift`` -> SiLU.

    Fast path: when the whole batch shares one (scale, shift) row (sampling does), they are
    folded into GroupNorm's affine parameters, which saves two passes over the activations."""

    def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor,
                scale_shift: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> torch.Tensor:
        x = self.proj(x)
        if self.fast and scale_shift is not None and scale_shift[0].shape[0] == 1:
            scale, shift = (part.reshape(-1) for part in scale_shift)
            gain = scale + 1
            x = F.group_norm(x, self.norm.num_groups, self.norm.weight * gain,
                             self.norm.bias * gain + shift, self.norm.eps)
            return F.silu(x, inplace=self.may_overwrite())
        x = self.norm(x)
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        if self.fast:
            return F.silu(x, inplace=self.may_overwrite())
        return self.act(x)


class ResnetBlock(FastPathMixin, nn.Module):
    """Two :class:`Block` s conditioned on the time embedding, plus a 1x1 shortcut when needed."""

    def __init__(self, dim: int, dim_out: int, time_emb_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = Block(dim, dim_out, groups)
        self.block2 = Block(dim_out, dim_out, groups)
        self.res_conv = PointwiseConv2d(dim, dim_out) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        if self.fast and self.may_overwrite():
            return self.block2(h).add_(self.res_conv(x))
        return self.block2(h) + self.res_conv(x)


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
