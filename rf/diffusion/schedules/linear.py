"""The linear schedule in its improved-DDPM form (the paper's default)."""
import torch

from rf.registry import NOISE_SCHEDULES


@NOISE_SCHEDULES.register_module(name='linear')
def linear_betas(T: int) -> torch.Tensor:
    """``β = linspace(s·1e-4, s·0.02, T)`` with ``s = 1000 / T`` (so any T spans DDPM's range)."""
    scale = 1000.0 / T
    return torch.linspace(scale * 1e-4, scale * 0.02, T, dtype=torch.float64)
