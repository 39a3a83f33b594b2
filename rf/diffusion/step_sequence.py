"""Which trained steps the sampler visits, and the table of the process it walks through them.

All trained steps ``1..T'`` by default, walking the truncated schedule itself; or a sub-sequence
``τ_1 < ... < τ_S = T'`` (``steps=``), walking the DDPM process on those steps
(:meth:`ScheduleTable.sub_sequence`). Either way the sampler runs one loop over one table.
"""
from typing import List, Sequence, Union

import torch

from rf.diffusion.schedule_table import ScheduleTable
from rf.diffusion.truncated_schedule import TruncatedSchedule

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


class StepSequence:
    """The visited trained steps ``steps`` and the ``table`` of the process walked through them.

    ``table`` is indexed by position ``i = 1..len(steps)`` in the sequence; :meth:`to_index`
    maps trained steps to positions. With every step visited, ``table`` is the schedule itself
    and positions are the trained steps (``is_identity``).
    """

    def __init__(self, schedule: TruncatedSchedule, steps: StepsOption = None) -> None:
        self.steps = resolve_steps(schedule, steps)
        self.is_identity = len(self.steps) == schedule.T_acc
        self.table: ScheduleTable = (schedule if self.is_identity
                                     else ScheduleTable.sub_sequence(schedule, self.steps))
        # trained step -> its 1-based position in the sequence (0 where it is not visited).
        self._index_of = torch.zeros(schedule.T_acc + 1, dtype=torch.long)
        self._index_of[torch.as_tensor(self.steps)] = torch.arange(1, len(self.steps) + 1)
        self._index_on = {}

    def __len__(self) -> int:
        return len(self.steps)

    def to_index(self, t: torch.Tensor) -> torch.Tensor:
        """Trained steps ``t`` (1-based) -> their 1-based positions in the sequence. Steps that
        are not visited are refused where checking costs no device synchronisation (CPU)."""
        if t.device not in self._index_on:
            self._index_on[t.device] = self._index_of.to(t.device)
        index = self._index_on[t.device][t.long()]
        if t.device.type == 'cpu' and bool((index == 0).any()):
            missing = sorted(set(t[index == 0].tolist()))
            raise ValueError(f"steps {missing} are not in the sampler's sequence {self.steps}.")
        return index
