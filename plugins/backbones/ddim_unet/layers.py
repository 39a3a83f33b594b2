"""Building blocks of the DDPM/DDIM CIFAR-10 U-Net (Ho et al. 2020; Song et al. 2021).

Facts of that network, written here from its description: GroupNorm (eps 1e-6) before every
convolution and attention, swish (SiLU) activations, a sinusoidal step embedding fed to every
residual block through a linear projection, single-head self-attention, downsampling by a
stride-2 3x3 convolution after zero-padding right and bottom by one pixel, upsampling by nearest
x2 then a 3x3 convolution.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


def step_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (B, dim) of the 0-based steps ``t``: ``[sin(t·f_i), cos(t·f_i)]`` with
    ``f_i = exp(-i·ln(10000)/(dim/2 - 1))``; an odd ``dim`` gets one zero column."""
    if t.dim() != 1:
        raise ValueError(f'step_embedding expects steps of shape (B,), got {tuple(t.shape)}.')
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32, device=t.device)
                      * -(math.log(10000) / (half - 1)))
    angles = t.float()[:, None] * freqs[None]
    embedding = torch.cat([angles.sin(), angles.cos()], dim=1)
    return F.pad(embedding, (0, 1)) if dim % 2 else embedding


def group_norm(channels: int, groups: int) -> nn.GroupNorm:
    if channels % groups:
        raise ValueError(f'DDIMUNet: GroupNorm with {groups} groups cannot split {channels} '
                         f'channels; choose norm_groups dividing every width (ch x ch_mult and '
                         f'the skip concatenations).')
    return nn.GroupNorm(groups, channels, eps=1e-6)


class ResnetBlock(nn.Module):
    """norm → swish → conv3x3 → + proj(swish(temb)) → norm → swish → dropout → conv3x3, plus the
    input (through a 1x1 conv when the width changes)."""

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, dropout: float,
                 groups: int) -> None:
        super().__init__()
        self.norm1 = group_norm(in_channels, groups)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.temb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = group_norm(out_channels, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        # Named as in the DDIM code, so its state dicts load.
        self.nin_shortcut = (nn.Conv2d(in_channels, out_channels, 1)
                             if in_channels != out_channels else None)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return (x if self.nin_shortcut is None else self.nin_shortcut(x)) + h


class AttnBlock(nn.Module):
    """``x + proj(softmax(q kᵀ / √C) v)`` over the pixels, one head, q/k/v from 1x1 convs of the
    normalised input."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__()
        self.norm = group_norm(channels, groups)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        normed = self.norm(x)
        # (B, 1, HW, C): one head; scaled_dot_product_attention scales by 1/√C.
        q, k, v = (conv(normed).reshape(b, 1, c, h * w).transpose(-1, -2)
                   for conv in (self.q, self.k, self.v))
        out = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj_out(out.transpose(-1, -2).reshape(b, c, h, w))


class Downsample(nn.Module):
    """Halve the size: pad right/bottom by one, 3x3 conv with stride 2 (or 2x2 average pooling)."""

    def __init__(self, channels: int, with_conv: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2) if with_conv else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.conv is None:
            return F.avg_pool2d(x, 2)
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    """Double the size: nearest neighbour, then a 3x3 conv (optional)."""

    def __init__(self, channels: int, with_conv: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1) if with_conv else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode='nearest')
        return x if self.conv is None else self.conv(x)
