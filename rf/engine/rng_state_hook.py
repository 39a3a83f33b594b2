"""Save and restore the random-number generators' state with each checkpoint.

MMEngine restores the seed on resume but not the generators' positions, so a resumed run would
draw different diffusion steps and noise than the uninterrupted one. This hook stores Python's,
numpy's and torch's (CPU and CUDA) states of every rank and puts them back on resume, each rank
its own (``randomness=dict(diff_rank_seed=True)`` gives every rank its own streams).

On a GPU MMEngine loads the resumed checkpoint with ``map_location='cuda'``, so the saved torch
states come back as CUDA tensors; torch's setters take CPU byte tensors only, so every state is
moved back to the CPU before it is set.
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size, is_distributed
from mmengine.hooks import CheckpointHook, Hook

from rf.registry import HOOKS

KEY = 'rng_state'


def capture_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def _to_cpu(value):
    """``value`` with any tensor moved to the CPU (a checkpoint mapped to a GPU holds CUDA ones)."""
    return value.detach().cpu() if isinstance(value, torch.Tensor) else value


def _byte_state(value, name: str) -> torch.Tensor:
    """A saved torch/CUDA generator state as the CPU uint8 tensor ``set_rng_state`` accepts."""
    state = torch.as_tensor(_to_cpu(value))
    if state.dtype != torch.uint8:
        fits = (not state.is_floating_point() and not state.is_complex()
                and (state.numel() == 0 or (state.min() >= 0 and state.max() <= 255)))
        if not fits:
            raise ValueError(f"The checkpoint's {name!r} random state is not a byte tensor "
                             f'(dtype {state.dtype}); was the checkpoint changed after saving?')
        state = state.to(torch.uint8)
    return state.contiguous()


def _python_state(value) -> tuple:
    """Python's ``random`` state as ``setstate`` wants it (the checkpoint may hold lists)."""
    version, internal, gauss = value
    return int(version), tuple(int(x) for x in internal), gauss


def _numpy_state(value) -> tuple:
    """numpy's legacy state tuple, its key as a uint32 array even if it came back as a tensor."""
    kind, key, pos, has_gauss, cached = (_to_cpu(x) for x in value)
    key = key.numpy() if isinstance(key, torch.Tensor) else key
    return str(kind), np.asarray(key, dtype=np.uint32), int(pos), int(has_gauss), float(cached)


def restore_rng_state(state: dict) -> None:
    """Set the generators to ``state`` (one rank's entry), wherever the checkpoint was mapped."""
    random.setstate(_python_state(state['python']))
    np.random.set_state(_numpy_state(state['numpy']))
    torch.set_rng_state(_byte_state(state['torch'], 'torch'))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(_byte_state(state['cuda'], 'cuda'))


def _checkpoint_hooks(runner) -> list:
    return [hook for hook in runner.hooks if isinstance(hook, CheckpointHook)]


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Checkpoint ``checkpoint['rng_state'] = [state of rank 0, rank 1, ...]`` and restore it.

    Only rank 0 saves checkpoints (``before_save_checkpoint`` runs there alone), so with several
    processes the ranks' states are gathered where every rank is present and a checkpoint hook
    (priority VERY_LOW, after this one) is about to save: after an iteration or an epoch its
    interval (or ``save_last``) makes due, and after a validation that may save the best
    checkpoint. Each iteration only keeps this rank's state locally, which needs no
    communication; the states saved are those after the last training iteration, as in a
    single process.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self._local = None
        self._local_count = 0
        self._gathered = None
        self._gathered_count = -1

    @staticmethod
    def _several_processes() -> bool:
        return is_distributed() and get_world_size() > 1

    def _gather(self) -> None:
        if self._local is not None:
            self._gathered = all_gather_object(self._local)
            self._gathered_count = self._local_count

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self._several_processes():
            return
        self._local = capture_rng_state()
        self._local_count += 1
        if any(not hook.by_epoch and (
                hook.every_n_train_iters(runner, hook.interval, hook.save_begin)
                or (hook.save_last and hook.is_last_train_iter(runner)))
               for hook in _checkpoint_hooks(runner)):
            self._gather()

    def after_train_epoch(self, runner) -> None:
        if self._several_processes() and any(hook.by_epoch and (
                hook.every_n_epochs(runner, hook.interval, hook.save_begin)
                or (hook.save_last and hook.is_last_train_epoch(runner)))
                for hook in _checkpoint_hooks(runner)):
            self._gather()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if (self._several_processes() and metrics
                and any(hook.save_best for hook in _checkpoint_hooks(runner))
                and self._gathered_count != self._local_count):
            self._gather()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self._several_processes():
            checkpoint[KEY] = [capture_rng_state()]
        elif self._gathered is not None and self._gathered_count == self._local_count:
            checkpoint[KEY] = self._gathered
        else:
            runner.logger.warning(
                'This checkpoint is saved where the ranks\' random states were not gathered '
                '(not by a CheckpointHook interval or save_best): it holds none, so resuming '
                'from it reseeds the generators.')

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
