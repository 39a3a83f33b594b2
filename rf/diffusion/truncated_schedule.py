"""Resfusion's truncated noise schedule and its acceleration point T'.

Given any base schedule of ``T`` steps, let ``k`` be the first step with ``√ᾱ_k ≤ 0.5``. The base
schedule must still be a schedule around that crossing: ``0 < β_t < 1`` for every step up to ``k + 1``
(the linear schedule rescaled to a small ``T`` breaks down there: for ``T ≤ 9`` its β exceeds 1 right
after the crossing, which is why such ``T`` are refused, with a message naming the smallest ``T``
that works). When
``0.5 - √ᾱ_k > δ`` (the offset threshold), step ``k`` is rewritten so that ``ᾱ_k = 0.25`` exactly
and every later step is dropped; otherwise the schedule is kept whole. The acceleration point is
``T' = argmin_t |√ᾱ_t - 0.5|`` (1-based); training and sampling use steps ``1..T'`` only.

The kept steps' tables are a :class:`~rf.diffusion.schedule_table.ScheduleTable`.
"""
from typing import Callable, Dict, Optional, Tuple, Union

import torch

from rf.diffusion.schedule_table import TABLE_NAMES, ScheduleTable
from rf.registry import NOISE_SCHEDULES

__all__ = ['TruncatedSchedule', 'TABLE_NAMES']

_MAX_T_SEARCHED = 10000


def _crossing_step(betas: torch.Tensor) -> Tuple[Optional[int], str]:
    """0-based index of the first step with √ᾱ ≤ 0.5, or ``(None, why not)``.

    Only the valid prefix of the base schedule counts (``0 < β < 1``, so ᾱ is positive and
    decreasing), and the crossing must lie strictly inside it.
    """
    invalid = torch.nonzero(~((betas > 0) & (betas < 1)))
    valid_len = int(invalid[0]) if len(invalid) else len(betas)
    sqrt_alphas_cumprod = torch.cumprod(1 - betas[:valid_len], 0).sqrt()
    hits = torch.nonzero(sqrt_alphas_cumprod <= 0.5)
    if not len(hits):
        lowest = float(sqrt_alphas_cumprod.min()) if valid_len else 1.0
        return None, f'never reaches √ᾱ_t <= 0.5 (its lowest √ᾱ is {lowest:.4f})'
    k = int(hits[0])
    if k + 1 >= valid_len:
        after = (f'β_{k + 2} = {float(betas[k + 1]):.4f} is not in (0, 1)' if k + 1 < len(betas)
                 else 'it has no step after it')
        return None, (f'reaches √ᾱ_t <= 0.5 at step {k + 1}, but the base schedule breaks down '
                      f'right there ({after})')
    return k, ''


def _resolve_betas_fn(schedule: Union[str, Callable]) -> Callable:
    if callable(schedule):
        return schedule
    fn = NOISE_SCHEDULES.get(schedule)
    if fn is None:
        known = ', '.join(sorted(NOISE_SCHEDULES.module_dict))
        raise KeyError(f"Unknown noise schedule {schedule!r}; registered schedules: {known}.")
    return fn


class TruncatedSchedule(ScheduleTable):
    """A base schedule truncated at ``√ᾱ = 0.5``, with its acceleration point ``T_acc`` (T').

    Args:
        schedule: name of a schedule in ``NOISE_SCHEDULES`` (``'linear'``, ``'cosine'``,
            ``'sigmoid'``, ``'scaled_linear'``, ...) or a function ``f(T, **kwargs) -> betas``.
        T: number of steps of the base schedule.
        offset_threshold: δ; truncate only when ``0.5 - √ᾱ_k > δ``.
        **schedule_kwargs: extra arguments of the base schedule (e.g. ``s`` for cosine).

    Raises:
        ValueError: when the base schedule never reaches ``√ᾱ ≤ 0.5``; the message says which
            ``T`` works for this schedule.
    """

    def __init__(self, schedule: Union[str, Callable] = 'linear', T: int = 12,
                 offset_threshold: float = 0.01, **schedule_kwargs) -> None:
        if int(T) != T or T < 1:
            raise ValueError(f'T must be a positive integer, got {T!r}.')
        if offset_threshold < 0:
            raise ValueError(f'offset_threshold must be >= 0, got {offset_threshold!r}.')
        self.schedule_name = schedule if isinstance(schedule, str) else getattr(
            schedule, '__name__', repr(schedule))
        self.T = int(T)
        self.offset_threshold = float(offset_threshold)
        betas_fn = _resolve_betas_fn(schedule)
        betas = torch.as_tensor(betas_fn(self.T, **schedule_kwargs), dtype=torch.float64)
        if betas.shape != (self.T,):
            raise ValueError(f'Schedule {self.schedule_name!r} returned shape '
                             f'{tuple(betas.shape)} for T={self.T}; expected ({self.T},).')

        k, why_not = _crossing_step(betas)
        if k is None:
            raise ValueError(self._unusable_message(betas_fn, schedule_kwargs, why_not))
        alphas_cumprod = torch.cumprod(1 - betas[:k + 1], 0)
        self.truncated = bool(0.5 - alphas_cumprod[k].sqrt() > self.offset_threshold)
        if self.truncated:
            prev = alphas_cumprod[k - 1] if k > 0 else torch.tensor(1.0, dtype=torch.float64)
            betas = betas[:k + 1].clone()
            betas[k] = 1 - 0.25 / prev
        alphas_cumprod = torch.cumprod(1 - betas, 0)
        if self.truncated:
            # Exactly 0.25, not 0.25 up to the cumulative product's rounding.
            alphas_cumprod[-1] = 0.25
        self._set_tables(betas, alphas_cumprod=alphas_cumprod)
        self.T_acc = int(torch.argmin((self.alphas_cumprod.sqrt() - 0.5).abs())) + 1

    def _unusable_message(self, betas_fn, schedule_kwargs, why_not: str) -> str:
        working_T = None
        for candidate in range(self.T + 1, _MAX_T_SEARCHED + 1):
            betas = torch.as_tensor(betas_fn(candidate, **schedule_kwargs), dtype=torch.float64)
            if _crossing_step(betas)[0] is not None:
                working_T = candidate
                break
        hint = (f'use T >= {working_T}' if working_T is not None
                else f'no T up to {_MAX_T_SEARCHED} works; choose another schedule')
        return (f"Noise schedule {self.schedule_name!r} with T={self.T} {why_not}, so Resfusion "
                f"has no acceleration point: {hint}.")

    def as_dict(self) -> Dict[str, object]:
        """Plain-Python view (used by ``tools/print_schedule.py``) over the kept steps."""
        return {
            'schedule': self.schedule_name, 'T': self.T, 'T_acc': self.T_acc,
            'truncated': self.truncated, 'offset_threshold': self.offset_threshold,
            'betas': self.betas.tolist(), 'alphas': self.alphas.tolist(),
            'alphas_cumprod': self.alphas_cumprod.tolist(),
            'posterior_variance': self.posterior_variance.tolist(),
        }

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(schedule={self.schedule_name!r}, T={self.T}, '
                f'T_acc={self.T_acc}, truncated={self.truncated}, '
                f'offset_threshold={self.offset_threshold})')
