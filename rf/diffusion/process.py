"""Resfusion's forward process, its "resnoise" target and conversions between targets.

Notation (docs/design.md §1): ``x0`` ground truth, ``degraded`` = x̂0, ``R = x̂0 - x0``, ``ε ~ N(0, I)``,
``t`` 1-based steps of shape (B,).

- forward:   ``x_t = √ᾱ_t·x0 + (1 - √ᾱ_t)·R + √(1-ᾱ_t)·ε``
- resnoise:  ``rese_t = ε + c_t·R`` with ``c_t = (1 - √α_t)·√(1-ᾱ_t) / β_t``
- start:     ``x_T' = (1 - √ᾱ_T')·x̂0 + √(1-ᾱ_T')·ε``

The network may be trained on one of three equivalent targets: ``resnoise`` (default), ``x0``
(the clean image) or ``residual`` (R). Given ``x_t``, ``x̂0`` and ``t`` each one determines the others.
"""
import torch

from rf.diffusion.truncated_schedule import TruncatedSchedule

TARGETS = ('resnoise', 'x0', 'residual')


def check_target(target: str) -> str:
    """Return ``target`` if it is one of :data:`TARGETS`, else raise a clear error."""
    if target not in TARGETS:
        hint = (' Predicting plain ε is not equivalent under Resfusion (the network collapses onto '
                'the condition).' if target in ('eps', 'epsilon', 'noise') else '')
        raise ValueError(f'Unknown prediction target {target!r}; choose one of {TARGETS}.{hint}')
    return target


def q_sample(schedule: TruncatedSchedule, x0: torch.Tensor, degraded: torch.Tensor,
             t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Sample the forward marginal ``q(x_t | x0, x̂0)``."""
    sqrt_ab = schedule.gather('sqrt_alphas_cumprod', t, x0)
    sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', t, x0)
    return sqrt_ab * x0 + (1 - sqrt_ab) * (degraded - x0) + sqrt_1m_ab * noise


def resnoise(schedule: TruncatedSchedule, noise: torch.Tensor, residual: torch.Tensor,
             t: torch.Tensor) -> torch.Tensor:
    """The resnoise ``ε + c_t·R``: what the sampler step needs the network to give."""
    return noise + schedule.gather('resnoise_coef', t, noise) * residual


def training_target(schedule: TruncatedSchedule, target: str, x0: torch.Tensor,
                    degraded: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """What a network trained on ``target`` should output for the sample ``q_sample(x0, ..., noise)``."""
    check_target(target)
    if target == 'x0':
        return x0
    if target == 'residual':
        return degraded - x0
    return resnoise(schedule, noise, degraded - x0, t)


def resnoise_to_x0(schedule: TruncatedSchedule, rese: torch.Tensor, x_t: torch.Tensor,
                   degraded: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Invert the resnoise for ``x0``.

    With ``R = x̂0 - x0`` substituted, ``rese = [x_t - (1-√ᾱ)x̂0]/√(1-ᾱ) + c·x̂0 - x0·[(2√ᾱ-1)/√(1-ᾱ) + c]``.
    """
    sqrt_ab = schedule.gather('sqrt_alphas_cumprod', t, x_t)
    sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', t, x_t)
    c = schedule.gather('resnoise_coef', t, x_t)
    known = (x_t - (1 - sqrt_ab) * degraded) / sqrt_1m_ab + c * degraded
    return (known - rese) / ((2 * sqrt_ab - 1) / sqrt_1m_ab + c)


def x0_to_resnoise(schedule: TruncatedSchedule, x0: torch.Tensor, x_t: torch.Tensor,
                   degraded: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The resnoise implied by ``x0``: the ε that makes ``x_t`` from ``x0``, plus ``c_t·R``."""
    sqrt_ab = schedule.gather('sqrt_alphas_cumprod', t, x_t)
    sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', t, x_t)
    residual = degraded - x0
    noise = (x_t - sqrt_ab * x0 - (1 - sqrt_ab) * residual) / sqrt_1m_ab
    return resnoise(schedule, noise, residual, t)


def convert_target(schedule: TruncatedSchedule, value: torch.Tensor, source: str, dest: str,
                   x_t: torch.Tensor, degraded: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Convert a prediction between ``resnoise``, ``x0`` and ``residual``."""
    check_target(source)
    check_target(dest)
    if source == dest:
        return value
    if source == 'resnoise':
        x0 = resnoise_to_x0(schedule, value, x_t, degraded, t)
    elif source == 'residual':
        x0 = degraded - value
    else:
        x0 = value
    if dest == 'x0':
        return x0
    if dest == 'residual':
        return degraded - x0
    return x0_to_resnoise(schedule, x0, x_t, degraded, t)


def start_point(schedule: TruncatedSchedule, degraded: torch.Tensor,
                noise: torch.Tensor) -> torch.Tensor:
    """``x_T' = (1 - √ᾱ_T')·x̂0 + √(1-ᾱ_T')·ε``: the computable part of the forward marginal."""
    t = torch.full((degraded.shape[0],), schedule.T_acc, device=degraded.device, dtype=torch.long)
    sqrt_ab = schedule.gather('sqrt_alphas_cumprod', t, degraded)
    sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', t, degraded)
    return (1 - sqrt_ab) * degraded + sqrt_1m_ab * noise


def posterior_mean_from_resnoise(schedule: TruncatedSchedule, x_t: torch.Tensor,
                                 rese: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``(x_t - β_t/√(1-ᾱ_t)·rese) / √α_t``: the mean of ``p(x_{t-1} | x_t)``."""
    beta = schedule.gather('betas', t, x_t)
    sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', t, x_t)
    sqrt_a = schedule.gather('sqrt_alphas', t, x_t)
    return (x_t - beta / sqrt_1m_ab * rese) / sqrt_a
