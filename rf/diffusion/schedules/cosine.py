"""The cosine schedule of Nichol & Dhariwal (2021)."""
import math

import torch

from rf.registry import NOISE_SCHEDULES


@NOISE_SCHEDULES.register_module(name='cosine')
def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """``ᾱ(t) = cos²(((t/T)+s)/(1+s)·π/2)``, ``β_t = min(1 - ᾱ(t)/ᾱ(t-1), max_beta)``."""
    t = torch.arange(T + 1, dtype=torch.float64)
    alpha_bar = torch.cos(((t / T) + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
