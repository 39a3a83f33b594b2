"""The fast twins of the U-Net's building blocks: channel means as matrix products, GroupNorm
with the time scale/shift folded into its affine parameters, in-place sums and activations when
no gradient is needed. Same parameters as the literal blocks in :mod:`..layers`."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from rf_plugins.backbones.resfusion_unet.fast.base import FastModule
from rf_plugins.backbones.resfusion_unet.layers import Block, ChannelLayerNorm, Residual, ResnetBlock


def channel_mean(flat: torch.Tensor) -> torch.Tensor:
    """Mean over dim 1 of (B, C, N) as a (1, C) x (C, N) product: a strided reduction over
    channels runs at a fraction of memory speed on CPUs, the product at full speed."""
    weights = flat.new_full((1, flat.shape[1]), 1.0 / flat.shape[1])
    return torch.matmul(weights, flat)


class FastChannelLayerNorm(FastModule, ChannelLayerNorm, literal=ChannelLayerNorm):
    """The twin of :class:`.ChannelLayerNorm`: the means as matrix products
    (:func:`channel_mean`), in place when no gradient is needed. The precision rules are the
    literal module's (``forward`` is inherited): statistics in float32 at least, without
    autocast, so the products are not lowered to bf16/fp16."""

    def _normalize(self, x: torch.Tensor, eps: float) -> torch.Tensor:
        flat = x.reshape(*x.shape[:2], -1)
        centred = flat - channel_mean(flat)
        var = channel_mean(centred * centred)
        if self.may_overwrite():
            return centred.mul_(var.add_(eps).rsqrt_()).view_as(x).mul_(self.g)
        return (centred * torch.rsqrt(var + eps)).view_as(x) * self.g


class FastResidual(FastModule, Residual, literal=Residual):
    """The twin of :class:`.Residual`: ``fn(x) += x`` in place when no gradient is needed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.may_overwrite():
            return self.fn(x).add_(x)
        return super().forward(x)


class FastBlock(FastModule, Block, literal=Block):
    """The twin of :class:`.Block`. When the whole batch shares one (scale, shift) row
    (sampling does), they are folded into GroupNorm's affine parameters: with g = scale + 1,

        GroupNorm_{γ,β}(h) · g + shift = GroupNorm_{γ·g, β·g + shift}(h),

    which saves two passes over the activations; SiLU runs in place when no gradient is
    needed."""

    def forward(self, x: torch.Tensor,
                scale_shift: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> torch.Tensor:
        x = self.proj(x)
        if scale_shift is not None and scale_shift[0].shape[0] == 1:
            scale, shift = (part.reshape(-1) for part in scale_shift)
            gain = scale + 1
            x = F.group_norm(x, self.norm.num_groups, self.norm.weight * gain,
                             self.norm.bias * gain + shift, self.norm.eps)
            return F.silu(x, inplace=self.may_overwrite())
        x = self.norm(x)
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return F.silu(x, inplace=self.may_overwrite())


class FastResnetBlock(FastModule, ResnetBlock, literal=ResnetBlock):
    """The twin of :class:`.ResnetBlock`: the shortcut is added in place when no gradient is
    needed."""

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        if not self.may_overwrite():
            return super().forward(x, time_emb)
        scale_shift = self.mlp(time_emb)[:, :, None, None].chunk(2, dim=1)
        h = self.block1(x, scale_shift=scale_shift)
        return self.block2(h).add_(self.res_conv(x))
