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
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch

from rf.diffusion import process
from rf.diffusion.truncated_schedule import TruncatedSchedule

#: ``predict(x_t, t)`` -> the network's prediction; ``t`` is 1-based, shape (B,), dtype long.
PredictFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

VARIANCES = ('posterior', 'beta')

StepsOption = Union[None, int, Sequence[int]]


def spaced_steps(num_steps: int, count: int) -> List[int]:
    """``count`` of the trained steps ``1..num_steps``, evenly spaced and always including the first
    and the last: ``round(1 + i·(num_steps - 1)/(count - 1))``; ``count=1`` is ``[num_steps]``."""
    if count == 1:
        return [num_steps]
    return [1 + round(i * (num_steps - 1) / (count - 1)) for i in range(count)]


def resolve_steps(schedule: TruncatedSchedule, steps: StepsOption) -> List[int]:
    """The increasing 1-based trained steps the sampler visits (``None``: all of ``1..T'``).

    ``steps`` is a count (evenly spaced, see :func:`spaced_steps`) or an explicit increasing list
    that ends at ``T'`` (the sampler starts from the marginal at ``T'``).
    """
    last = schedule.T_acc
    if steps is None:
        return list(range(1, last + 1))
    if isinstance(steps, bool) or not isinstance(steps, (int, list, tuple)):
        raise TypeError(f'sampler steps must be a number of steps or a list of 1-based steps, '
                        f'got {steps!r}.')
    if isinstance(steps, int):
        if not 1 <= steps <= last:
            raise ValueError(f'sampler steps={steps}: choose 1..{last} (the schedule has '
                             f"T'={last} trained steps).")
        return spaced_steps(last, steps)
    chosen = [int(s) for s in steps]
    if not chosen or any(b <= a for a, b in zip(chosen, chosen[1:])) or chosen[0] < 1 \
            or chosen[-1] != last:
        raise ValueError(f'sampler steps={list(steps)!r}: a list of steps must be strictly '
                         f"increasing 1-based trained steps ending at T'={last}.")
    return chosen


class RespacedSchedule:
    """The DDPM tables of a sub-sequence of a :class:`TruncatedSchedule`'s steps.

    Indexed like the base schedule (``gather(name, i, like)`` with 1-based ``i``), but ``i`` counts
    the chosen steps: ``i = 1..len(steps)`` stands for the trained step ``steps[i - 1]``.
    """

    def __init__(self, base: TruncatedSchedule, steps: Sequence[int]) -> None:
        self.base = base
        self.steps = list(steps)
        index = torch.as_tensor(self.steps, dtype=torch.long) - 1
        alphas_cumprod = base.alphas_cumprod[index].clone()
        prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[:-1]])
        alphas = alphas_cumprod / prev
        betas = 1 - alphas
        self.tables = {
            'betas': betas,
            'alphas': alphas,
            'alphas_cumprod': alphas_cumprod,
            'alphas_cumprod_prev': prev,
            'sqrt_alphas': alphas.sqrt(),
            'sqrt_alphas_cumprod': alphas_cumprod.sqrt(),
            'sqrt_one_minus_alphas_cumprod': (1 - alphas_cumprod).sqrt(),
            'posterior_variance': betas * (1 - prev) / (1 - alphas_cumprod),
            'resnoise_coef': (1 - alphas.sqrt()) * (1 - alphas_cumprod).sqrt() / betas,
        }
        # trained step -> its index in the sub-sequence (0 where the step is not visited).
        self.index_of = torch.zeros(base.T_acc + 1, dtype=torch.long)
        self.index_of[torch.as_tensor(self.steps)] = torch.arange(1, len(self.steps) + 1)
        self._device_cache = {}

    def to_index(self, t: torch.Tensor) -> torch.Tensor:
        """Trained steps ``t`` (1-based) -> their 1-based positions in the sub-sequence."""
        index = self.index_of.to(t.device)[t.long()]
        if bool((index == 0).any()):
            missing = sorted(set(t[index == 0].tolist()))
            raise ValueError(f'steps {missing} are not in the sampler\'s sub-sequence '
                             f'{self.steps}.')
        return index

    def gather(self, name: str, i: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Table ``name`` at sub-sequence positions ``i`` (1-based), shaped against ``like``."""
        if like.device not in self._device_cache:
            dtype = torch.float32 if like.device.type == 'mps' else torch.float64
            self._device_cache[like.device] = {
                key: value.to(device=like.device, dtype=dtype) for key, value in self.tables.items()}
        values = self._device_cache[like.device][name][i.long().reshape(-1) - 1]
        return values.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


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
        self.steps = resolve_steps(schedule, steps)
        full = len(self.steps) == schedule.T_acc
        self.respaced = None if full else RespacedSchedule(schedule, self.steps)

    @property
    def num_steps(self) -> int:
        """Reverse steps (network evaluations) per sample."""
        return len(self.steps)

    def sigma(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        name = 'posterior_variance' if self.variance == 'posterior' else 'betas'
        if self.respaced is not None:
            return self.respaced.gather(name, self.respaced.to_index(t), like).sqrt()
        return self.schedule.gather(name, t, like).sqrt()

    def step(self, prediction: torch.Tensor, x_t: torch.Tensor, degraded: torch.Tensor,
             t: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One reverse step from trained step ``t`` to the previous visited one (``t - 1`` with
        every step); ``noise=None`` gives the deterministic mean."""
        if self.respaced is not None:
            return self._respaced_step(prediction, x_t, degraded, t, noise)
        rese = prediction
        if self.target != 'resnoise' or self.clip_x0:
            x0 = process.convert_target(self.schedule, prediction, self.target, 'x0',
                                        x_t, degraded, t)
            if self.clip_x0:
                x0 = x0.clamp(-1, 1)
            rese = process.x0_to_resnoise(self.schedule, x0, x_t, degraded, t)
        mean = process.posterior_mean_from_resnoise(self.schedule, x_t, rese, t)
        if noise is None:
            return mean
        # t = 1 gets no noise whatever the variance choice.
        nonzero = (t > 1).to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))
        return mean + nonzero * self.sigma(t, x_t) * noise

    def _respaced_step(self, prediction, x_t, degraded, t, noise):
        """The step of the respaced process: the prediction (made at trained step ``t``) gives
        ``x0``, which gives the resnoise of the respaced step ``i``."""
        x0 = process.convert_target(self.schedule, prediction, self.target, 'x0', x_t, degraded, t)
        if self.clip_x0:
            x0 = x0.clamp(-1, 1)
        i = self.respaced.to_index(t)
        rese = process.x0_to_resnoise(self.respaced, x0, x_t, degraded, i)
        mean = process.posterior_mean_from_resnoise(self.respaced, x_t, rese, i)
        if noise is None:
            return mean
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
