"""Building blocks of the RDDM U-Net that Resfusion uses (names match the authors' state dict)."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from rf_plugins.backbones.resfusion_unet.convolutions import (PointwiseConv2d,
                                                             WeightStandardizedConv2d)
from rf_plugins.backbones.resfusion_unet.fast_path import (FastPathMixin, autocast_off, norm_dtype,
                                                          norm_eps)


def channel_mean(flat: torch.Tensor) -> torch.Tensor:
    """Mean over dim 1 of (B, C, N) as a (1, C) x (C, N) product: a strided reduction over
    channels runs at a fraction of memory speed on CPUs, the product at full speed."""
    weights = flat.new_full((1, flat.shape[1]), 1.0 / flat.shape[1])
    return torch.matmul(weights, flat)


class ChannelLayerNorm(FastPathMixin, nn.Module):
    """LayerNorm over channels at each pixel, with a gain ``g`` of shape (1, C, 1, 1) and no bias.

    Mixed precision: the epsilon follows the gain's dtype (1e-5 for an fp32 network, whatever
    autocast does to the activations; the authors take the activations' dtype), and the
    statistics are computed without autocast in float32 at least (:func:`.norm_dtype`), as
    CUDA's autocast computes ``layer_norm``: the fast path's matrix-product means would
    otherwise run in bf16/fp16. The output has the dtype of ``x * g`` (float32 under autocast
    with fp32 gains, as the authors' formula gives), and float32 inputs are computed exactly
    as before."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_dtype = torch.promote_types(x.dtype, self.g.dtype)
        with autocast_off(x.device.type):
            out = self._normalize(x.to(norm_dtype(out_dtype)), norm_eps(self.g.dtype))
        return out.to(out_dtype)

    def _normalize(self, x: torch.Tensor, eps: float) -> torch.Tensor:
        """``(x - mean) / sqrt(var + eps) * g`` over dim 1 in ``x``'s dtype: the authors'
        formula, or on the fast path the means as matrix products (:func:`channel_mean`)."""
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
