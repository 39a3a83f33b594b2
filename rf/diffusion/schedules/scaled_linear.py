"""The scaled-linear schedule of latent diffusion: linear in √β."""
import torch

from rf.registry import NOISE_SCHEDULES


@NOISE_SCHEDULES.register_module(name='scaled_linear')
def scaled_linear_betas(T: int, beta_start: float = 0.00085, beta_end: float = 0.012) -> torch.Tensor:
    """``β = linspace(√beta_start, √beta_end, T)²`` (not rescaled with T: needs T of a few hundred)."""
    return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, T, dtype=torch.float64) ** 2
