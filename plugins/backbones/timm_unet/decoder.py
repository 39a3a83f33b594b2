"""The TimmUNet decoder's building block: two convolutions with the diffusion step's scale and
shift (the encoder is a plain timm network, so the decoder is where the step comes in)."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class TimeConditionedBlock(nn.Module):
    """conv3x3 -> GroupNorm -> ``x·(scale+1)+shift`` -> SiLU -> conv3x3 -> GroupNorm -> SiLU, plus
    a 1x1 shortcut when the widths differ. ``(scale, shift)`` come from the step embedding through
    SiLU and a linear layer, as in the paper's ResnetBlock.

    GroupNorm uses ``gcd(groups, c_out)`` groups, so any width works.
    """

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int = 8) -> None:
        super().__init__()
        groups = math.gcd(groups, c_out)
        self.time = nn.Sequential(nn.SiLU(), nn.Linear(time_dim, c_out * 2))
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.time(time_emb)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.norm1(self.conv1(x)) * (scale + 1) + shift)
        h = F.silu(self.norm2(self.conv2(h)))
        return h + self.shortcut(x)
