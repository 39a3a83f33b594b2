"""A training hook for tests/runtime/test_rank_randomness.py: records each rank's diffusion draws.

The tiny config loads it through ``custom_imports`` (tests/helpers/ on PYTHONPATH). It wraps the
``q_sample`` that ``Resfusion.loss`` calls with the step ``t`` and the noise it drew, and writes
``WORK_DIR/draws_rank<R>.pt`` = ``{iteration: (t, noise)}`` when training ends.
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from rf.models import resfusion
from rf.registry import HOOKS


def draws_path(work_dir, rank: int) -> str:
    return osp.join(str(work_dir), f'draws_rank{rank}.pt')


@HOOKS.register_module()
class RecordDrawsHook(Hook):
    """Keep ``(t, noise)`` of every training iteration of this rank (1-based iteration)."""

    def __init__(self) -> None:
        self.draws = {}
        self._original = None

    def before_train(self, runner) -> None:
        original = self._original = resfusion.q_sample

        def recording_q_sample(schedule, x0, degraded, t, noise):
            self.draws[runner.iter + 1] = (t.detach().clone(), noise.detach().clone())
            return original(schedule, x0, degraded, t, noise)
        resfusion.q_sample = recording_q_sample

    def after_train(self, runner) -> None:
        resfusion.q_sample = self._original
        torch.save(self.draws, draws_path(runner.work_dir, get_rank()))
