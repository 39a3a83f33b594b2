"""Save and restore the random-number generators' state with each checkpoint.

MMEngine restores the seed on resume but not the generators' positions, so a resumed run would
draw different diffusion steps and noise than the uninterrupted one. This hook stores Python's,
numpy's and torch's (CPU and CUDA) states of every rank and puts them back on resume.
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size, is_distributed
from mmengine.hooks import Hook

from rf.registry import HOOKS

KEY = 'rng_state'


def capture_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def restore_rng_state(state: dict) -> None:
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    numpy_state = state['numpy']
    np.random.set_state(tuple(numpy_state))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Checkpoint ``checkpoint['rng_state'] = [state of rank 0, rank 1, ...]`` and restore it.

    Only rank 0 saves checkpoints (``before_save_checkpoint`` runs there alone), so with several
    processes every rank's state is gathered after each training iteration, before the
    checkpoint hook (priority VERY_LOW) runs; the cost is one small all-gather per iteration.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._gathered = None

    @staticmethod
    def _several_processes() -> bool:
        return is_distributed() and get_world_size() > 1

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._several_processes():
            self._gathered = all_gather_object(capture_rng_state())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self._several_processes():
            checkpoint[KEY] = [capture_rng_state()]
        elif self._gathered is not None:
            checkpoint[KEY] = self._gathered

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get(KEY)
        if not states:
            return
        if len(states) != get_world_size():
            runner.logger.warning(
                f'The checkpoint holds the random state of {len(states)} process(es) but this run '
                f'has {get_world_size()}: keeping the freshly seeded generators.')
            return
        restore_rng_state(states[get_rank()])
