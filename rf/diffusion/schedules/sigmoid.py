"""The sigmoid schedule (Jabri et al. 2022): ᾱ follows a rescaled sigmoid of t."""
import torch

from rf.registry import NOISE_SCHEDULES


@NOISE_SCHEDULES.register_module(name='sigmoid')
def sigmoid_betas(T: int, start: float = -3.0, end: float = 3.0, tau: float = 1.0,
                  max_beta: float = 0.999) -> torch.Tensor:
    """``ᾱ(t) ∝ σ(end/τ) - σ((t/T·(end-start)+start)/τ)``, normalised to ``ᾱ(0) = 1``."""
    t = torch.arange(T + 1, dtype=torch.float64) / T
    v_start = torch.sigmoid(torch.tensor(start / tau, dtype=torch.float64))
    v_end = torch.sigmoid(torch.tensor(end / tau, dtype=torch.float64))
    alpha_bar = (v_end - torch.sigmoid((t * (end - start) + start) / tau)) / (v_end - v_start)
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(min=0.0, max=max_beta)
