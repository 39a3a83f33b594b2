"""An example third-party rf plugin: ``CompactResNet``, a small time-conditioned residual conv net.

This file is the whole plugin. rf finds it through one entry-point line (see ``pyproject.toml``)::

    [project.entry-points."rf.plugins"]
    example_backbone = "rf_example_backbone"

and calls :func:`rf_register_modules` with its registries, so configs can say
``backbone=dict(type='CompactResNet', ...)`` with no import.

What rf asks of a backbone: ``forward(x, t)`` where ``x`` is the fused input (B, in_channels, H, W)
(for restoration with the ``concat`` fuser: ``[x_t, degraded]``, 6 channels) and ``t`` the 0-based
diffusion step index, shape (B,); it returns (B, out_channels, H, W), the prediction of the
model's target (the resnoise by default).
"""
import math
from typing import Sequence

import torch
from torch import nn

from rf.plugins import hookimpl

__all__ = ['CompactResNet', 'rf_register_modules']


def step_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of the step index ``t`` (B,) -> (B, dim): half sines, half cosines."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat((angles.sin(), angles.cos()), dim=1)


class TimeResBlock(nn.Module):
    """``h + conv(SiLU(FiLM_t(GN(conv(SiLU(GN(h)))))))``: a pre-activation residual block whose
    second normalisation is scaled and shifted by the step embedding."""

    def __init__(self, width: int, time_dim: int, groups: int, dilation: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, width)
        self.conv1 = nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation)
        self.norm2 = nn.GroupNorm(groups, width)
        self.film = nn.Linear(time_dim, 2 * width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.act(self.norm1(h)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        out = self.norm2(out) * (1 + scale) + shift
        return h + self.conv2(self.act(out))


class CompactResNet(nn.Module):
    """A compact residual conv net for Resfusion: no down-sampling, so any input size works;
    dilated convolutions widen the receptive field instead.

    Args:
        in_channels: channels of the fused input (6 for ``[x_t, degraded]``).
        out_channels: channels of the prediction (3 for RGB).
        width: channels of every block.
        num_blocks: residual blocks; block ``i`` uses ``dilations[i % len(dilations)]``.
        dilations: dilation of each block's first convolution.
        groups: GroupNorm groups (``width`` must be a multiple).
    """

    def __init__(self, in_channels: int = 6, out_channels: int = 3, width: int = 64,
                 num_blocks: int = 8, dilations: Sequence[int] = (1, 2, 4, 8),
                 groups: int = 8) -> None:
        super().__init__()
        if width % groups or width % 2:
            raise ValueError(f'CompactResNet: width={width} must be even and a multiple of '
                             f'groups={groups}.')
        if num_blocks < 1 or not dilations or min(dilations) < 1:
            raise ValueError(f'CompactResNet: need num_blocks >= 1 and dilations >= 1, got '
                             f'num_blocks={num_blocks}, dilations={tuple(dilations)}.')
        self.in_channels, self.out_channels, self.width = in_channels, out_channels, width
        time_dim = 4 * width
        self.time_mlp = nn.Sequential(nn.Linear(width, time_dim), nn.SiLU(),
                                      nn.Linear(time_dim, time_dim))
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        self.blocks = nn.ModuleList(
            TimeResBlock(width, time_dim, groups, dilations[i % len(dilations)])
            for i in range(num_blocks))
        self.head = nn.Sequential(nn.GroupNorm(groups, width), nn.SiLU(),
                                  nn.Conv2d(width, out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'CompactResNet(in_channels={self.in_channels}) got an input of shape '
                             f'{tuple(x.shape)}: set in_channels to what the fuser gives.')
        t = torch.as_tensor(t, device=x.device).reshape(-1).expand(x.shape[0])
        emb = self.time_mlp(step_embedding(t, self.width))
        h = self.stem(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.head(h)


@hookimpl
def rf_register_modules(registry):
    """rf calls this once, with :mod:`rf.registry`; register under the name configs will use."""
    registry.MODELS.register_module(module=CompactResNet)
