"""Building blocks of the RDDM U-Net that Resfusion uses (names match the authors' state dict)."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


def norm_eps(dtype: torch.dtype) -> float:
    """1e-5 in float32/float64; 1e-3 below (fp16/bf16), where 1e-5 underflows the variance."""
    return 1e-5 if dtype in (torch.float32, torch.float64) else 1e-3


class WeightStandardizedConv2d(nn.Conv2d):
    """Conv2d whose weight is standardised per output channel (biased variance) on every call."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        dims = tuple(range(1, weight.dim()))
        mean = weight.mean(dim=dims, keepdim=True)
        var = weight.var(dim=dims, unbiased=False, keepdim=True)
        weight = (weight - mean) * torch.rsqrt(var + norm_eps(x.dtype))
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ChannelLayerNorm(nn.Module):
    """LayerNorm over channels at each pixel, with a gain ``g`` of shape (1, C, 1, 1) and no bias."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = x.var(dim=1, unbiased=False, keepdim=True)
        mean = x.mean(dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + norm_eps(x.dtype)) * self.g


class PreNorm(nn.Module):
    """``fn(ChannelLayerNorm(x))``."""

    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = ChannelLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    """``x + fn(x)``."""

    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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


class Block(nn.Module):
    """WS-conv3x3 -> GroupNorm -> optional ``x·(scale+1)+shift`` -> SiLU."""

    def __init__(self, dim: int, dim_out: int, groups: int = 8) -> None:
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor,
                scale_shift: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> torch.Tensor:
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class ResnetBlock(nn.Module):
    """Two :class:`Block` s conditioned on the time embedding, plus a 1x1 shortcut when needed."""

    def __init__(self, dim: int, dim_out: int, time_emb_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = Block(dim, dim_out, groups)
        self.block2 = Block(dim_out, dim_out, groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        return self.block2(h) + self.res_conv(x)
