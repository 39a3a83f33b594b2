"""Embeddings of the diffusion step, shared by the U-Net backbones (ResfusionUNet, TimmUNet)."""
import math

import torch
from torch import nn


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
