"""Building blocks of the RDDM U-Net, written literally as in the authors' code (names match
their state dict). The fast twins, with the same parameters, are in :mod:`.fast.layers`."""
from typing import Optional, Tuple

import torch
from torch import nn

from rf_plugins.backbones.resfusion_unet.convolutions import WeightStandardizedConv2d
from rf_plugins.backbones.resfusion_unet.precision import autocast_off, norm_dtype, norm_eps


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channels at each pixel, with a gain ``g`` (1, C, 1, 1) and no bias:

        y = (x - mean_c(x)) / sqrt(var_c(x) + eps) * g.

    Mixed precision: the epsilon follows the gain's dtype (1e-5 for an fp32 network, whatever
    autocast does to the activations; the authors take the activations' dtype), and the
    statistics are computed without autocast in float32 at least (:func:`.norm_dtype`), as
    CUDA's autocast computes ``layer_norm``. The output has the dtype of ``x * g`` (float32
    under autocast with fp32 gains, as the authors' formula gives)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_dtype = torch.promote_types(x.dtype, self.g.dtype)
        with autocast_off(x.device.type):
            out = self._normalize(x.to(norm_dtype(out_dtype)), norm_eps(self.g.dtype))
        return out.to(out_dtype)

    def _normalize(self, x: torch.Tensor, eps: float) -> torch.Tensor:
        """The formula above over dim 1, in ``x``'s dtype."""
        var = x.var(dim=1, unbiased=False, keepdim=True)
        mean = x.mean(dim=1, keepdim=True)
        return (x - mean) * torch.rsqrt(var + eps) * self.g


class PreNorm(nn.Module):
    """``fn(ChannelLayerNorm(x))``."""

    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = ChannelLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class Residual(nn.Module):
    """``fn(x) + x``."""

    def __init__(self, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x) + x


class Block(nn.Module):
    """Weight-standardised 3x3 conv, GroupNorm, the time conditioning, SiLU:

        y = SiLU(GroupNorm(WSConv(x)) · (scale + 1) + shift),

    without the middle step when no ``(scale, shift)`` is given."""

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
    """Two :class:`Block` s, the first conditioned on the time embedding ``e``, plus a 1x1
    shortcut when the width changes:

        (scale, shift) = Linear(SiLU(e)),  y = Block2(Block1(x, scale, shift)) + res_conv(x)."""

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
