"""The Resfusion sampler: ``T'`` reverse steps from the noisy degraded image, or fewer.

``x_{t-1} = (x_t - β_t/√(1-ᾱ_t)·rese_θ(x_t, t)) / √α_t + σ_t·z`` for ``t = T'..1``, no noise at
``t = 1``, ``σ_t² = β̃_t`` (``variance='posterior'``, default) or ``β_t`` (``'beta'``).

Fewer steps (``steps=``): with ``y = x - R`` the forward process is plain DDPM on ``y``, so any
increasing sub-sequence ``τ_1 < ... < τ_S = T'`` of the trained steps is itself a DDPM process with
``ᾱ'_i = ᾱ_{τ_i}``, ``α'_i = ᾱ_{τ_i} / ᾱ_{τ_{i-1}}`` (``ᾱ_{τ_0} = 1``) and ``β'_i = 1 - α'_i``
(the respacing of improved DDPM). The network still sees step ``τ_i`` (the noise level of ``x`` is
that of the trained step ``τ_i``, so its time input is ``τ_i - 1``), and its prediction is turned
into the resnoise of the respaced step (``ε + c'_i·R``: ``c`` depends on ``α'_i``) through ``x0``.
"""
from typing import Callable, List, Optional, Tuple, Union

import torch

from rf.diffusion import process
from rf.diffusion.step_sequence import StepSequence, StepsOption, resolve_steps, spaced_steps
from rf.diffusion.truncated_schedule import TruncatedSchedule

__all__ = ['ResfusionSampler', 'PredictFn', 'VARIANCES', 'resolve_steps', 'spaced_steps']

#: ``predict(x_t, t)`` -> the network's prediction; ``t`` is 1-based, shape (B,), dtype long.
PredictFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

VARIANCES = ('posterior', 'beta')


class ResfusionSampler:
    """Runs the reverse process of a :class:`TruncatedSchedule`.

    Args:
        schedule: the truncated schedule (its ``T_acc`` is the number of trained steps).
        target: what ``predict`` returns: ``'resnoise'``, ``'x0'`` or ``'residual'``.
        variance: ``'posterior'`` (σ² = β̃_t) or ``'beta'`` (σ² = β_t).
        clip_x0: clamp the predicted ``x0`` to [-1, 1] at every step. Default: on for the ``x0``
            and ``residual`` targets, off for ``resnoise`` (as the paper does).
        steps: sample with fewer steps than trained: a count (e.g. ``20``: evenly spaced trained
            steps from 1 to ``T'``) or an explicit increasing list of 1-based trained steps
            ending at ``T'``. ``None`` (default) or every step runs the ordinary ``T'``-step
            loop, unchanged.
    """

    def __init__(self, schedule: TruncatedSchedule, target: str = 'resnoise',
                 variance: str = 'posterior', clip_x0: Optional[bool] = None,
                 steps: StepsOption = None) -> None:
        if variance not in VARIANCES:
            raise ValueError(f'Unknown sampler variance {variance!r}; choose one of {VARIANCES}.')
        self.schedule = schedule
        self.target = process.check_target(target)
        self.variance = variance
        self.clip_x0 = target != 'resnoise' if clip_x0 is None else bool(clip_x0)
        self.walk = StepSequence(schedule, steps)
        self.steps = self.walk.steps

    @property
    def num_steps(self) -> int:
        """Reverse steps (network evaluations) per sample."""
        return len(self.walk)

    def sigma(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        name = 'posterior_variance' if self.variance == 'posterior' else 'betas'
        return self.walk.table.gather(name, self.walk.to_index(t), like).sqrt()

    def step(self, prediction: torch.Tensor, x_t: torch.Tensor, degraded: torch.Tensor,
             t: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One reverse step from trained step ``t`` to the previous visited one (``t - 1`` with
        every step); ``noise=None`` gives the deterministic mean.

        The prediction, made at trained step ``t``, becomes the resnoise of the walked process at
        position ``i``: through ``x0`` (clamped when ``clip_x0``), unless it already is that
        resnoise (every step visited, resnoise target, no clamp).
        """
        i = self.walk.to_index(t)
        table = self.walk.table
        if self.walk.is_identity and self.target == 'resnoise' and not self.clip_x0:
            rese = prediction
        else:
            x0 = process.convert_target(self.schedule, prediction, self.target, 'x0',
                                        x_t, degraded, t)
            if self.clip_x0:
                x0 = x0.clamp(-1, 1)
            rese = process.x0_to_resnoise(table, x0, x_t, degraded, i)
        mean = process.posterior_mean_from_resnoise(table, x_t, rese, i)
        if noise is None:
            return mean
        # The first step gets no noise whatever the variance choice.
        nonzero = (i > 1).to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))
        return mean + nonzero * self.sigma(t, x_t) * noise

    @torch.no_grad()
    def sample(self, predict: PredictFn, degraded: torch.Tensor, *,
               deterministic: bool = False, seed: Optional[int] = None,
               generator: Optional[torch.Generator] = None,
               start_noise: Optional[torch.Tensor] = None,
               return_trajectory: bool = False,
               ) -> Union[torch.Tensor, Tuple[torch.Tensor, List[torch.Tensor]]]:
        """Restore ``degraded`` (x̂0 in [-1, 1]; zeros for generation).

        Args:
            predict: the network, ``predict(x_t, t)`` with 1-based trained steps ``t`` (see
                :data:`PredictFn`); with ``steps`` only the chosen ones.
            degraded: x̂0, shape (B, C, H, W).
            deterministic: σ = 0 at every step (the start point still draws its noise unless
                ``start_noise`` is given).
            seed / generator: make the sample reproducible (``seed`` builds a generator on
                ``degraded``'s device).
            start_noise: the ε of the start point, instead of drawing it.
            return_trajectory: also return ``[x_T', ..., x_0]`` (one entry per visited step).

        Returns:
            ``x_0`` clamped to [-1, 1], or ``(x_0, trajectory)``.
        """
        if seed is not None and generator is not None:
            raise ValueError('Pass either seed or generator, not both.')
        if seed is not None:
            generator = torch.Generator(device=degraded.device).manual_seed(seed)

        def randn() -> torch.Tensor:
            return torch.randn(degraded.shape, generator=generator, device=degraded.device,
                               dtype=degraded.dtype)

        noise = randn() if start_noise is None else start_noise
        x_t = process.start_point(self.schedule, degraded, noise)
        trajectory = [x_t] if return_trajectory else None
        batch = degraded.shape[0]
        last = self.steps[0]
        for step in reversed(self.steps):
            t = torch.full((batch,), step, device=degraded.device, dtype=torch.long)
            prediction = predict(x_t, t)
            step_noise = None if deterministic or step == last else randn()
            x_t = self.step(prediction, x_t, degraded, t, step_noise)
            if trajectory is not None:
                trajectory.append(x_t)
        image = x_t.clamp(-1, 1)
        return (image, trajectory) if return_trajectory else image
