"""Optimizer wrappers that never apply a step whose loss (or gradient) is NaN or infinite.

``on_nonfinite='stop'`` (default) raises :class:`NonFiniteLossError` before the weights change,
so the run stops with its last good checkpoint intact; ``'skip'`` drops that step (counted and
logged) and stops only after ``max_consecutive_skips`` bad steps in a row. Under distributed
training the ranks agree on the decision, so no rank waits for a backward that never comes.
"""
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from rf.registry import OPTIM_WRAPPERS

POLICIES = ('stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """Training met a NaN/infinite loss or gradient and the policy is to stop."""
    rf_user_error = True


def _any_rank(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is set on any process."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return flag
    value = torch.tensor([float(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _grads_finite(params) -> bool:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    norms = torch._foreach_norm(grads) if hasattr(torch, '_foreach_norm') else [
        g.norm() for g in grads]
    return bool(torch.isfinite(torch.stack([n.float() for n in norms])).all())


class _NonFiniteGuard:
    """The guard shared by the plain and the mixed-precision wrapper."""

    check_gradients = True

    def _setup_guard(self, on_nonfinite: str, max_consecutive_skips: int) -> None:
        if on_nonfinite not in POLICIES:
            raise ValueError(f'optim_wrapper.on_nonfinite must be one of {POLICIES}, got '
                             f'{on_nonfinite!r}.')
        self.on_nonfinite = on_nonfinite
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.skipped_steps = 0
        self._consecutive_skips = 0

    def _params(self):
        return [p for group in self.optimizer.param_groups for p in group['params']]

    def _handle(self, what: str, value: Optional[torch.Tensor]) -> None:
        hub = MessageHub.get_current_instance()
        iteration = int(hub.get_info('iter', 0)) + 1
        shown = f' ({value.item()})' if value is not None and value.numel() == 1 else ''
        if self.on_nonfinite == 'stop':
            raise NonFiniteLossError(
                f'Non-finite {what}{shown} at iteration {iteration}: training stopped before '
                'the weights changed. Resume from the last checkpoint with tools/train.py '
                "CONFIG --resume (a lower learning rate may help), or set "
                "optim_wrapper.on_nonfinite='skip' to skip such steps.")
        self.skipped_steps += 1
        self._consecutive_skips += 1
        MMLogger.get_current_instance().warning(
            f'Skipped iteration {iteration}: non-finite {what}{shown} '
            f'({self.skipped_steps} step(s) skipped so far).')
        if self._consecutive_skips > self.max_consecutive_skips:
            raise NonFiniteLossError(
                f'{self._consecutive_skips} consecutive steps had a non-finite {what} (last at '
                f'iteration {iteration}): training stopped. Resume from the last checkpoint '
                'with a lower learning rate.')

    def _skip_window(self) -> None:
        self._inner_count += 1  # what backward() would have counted
        if self.should_update():
            self.zero_grad()

    def update_params(self, loss: torch.Tensor, step_kwargs=None, zero_kwargs=None) -> None:
        step_kwargs, zero_kwargs = step_kwargs or {}, zero_kwargs or {}
        if _any_rank(not bool(torch.isfinite(loss.detach()).all()), loss.device):
            self._handle('loss', loss.detach())
            self._skip_window()
            return
        self.backward(self.scale_loss(loss))
        if not self.should_update():
            return
        if self.check_gradients and _any_rank(not _grads_finite(self._params()), loss.device):
            self._handle('gradient', None)
            self.zero_grad(**zero_kwargs)
            return
        self.step(**step_kwargs)
        self.zero_grad(**zero_kwargs)
        self._consecutive_skips = 0

    def state_dict(self) -> dict:
        state = super().state_dict()
        state['skipped_steps'] = self.skipped_steps
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        self.skipped_steps = int(state_dict.pop('skipped_steps', 0))
        super().load_state_dict(state_dict)


@OPTIM_WRAPPERS.register_module()
class GuardedOptimWrapper(_NonFiniteGuard, OptimWrapper):
    """:class:`mmengine.optim.OptimWrapper` that stops on (or skips) non-finite steps.

    Args:
        on_nonfinite: ``'stop'`` (default) or ``'skip'``.
        max_consecutive_skips: with ``'skip'``, stop after this many bad steps in a row.
        **kwargs: as OptimWrapper (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, on_nonfinite: str = 'stop', max_consecutive_skips: int = 20,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._setup_guard(on_nonfinite, max_consecutive_skips)


@OPTIM_WRAPPERS.register_module()
class GuardedAmpOptimWrapper(_NonFiniteGuard, AmpOptimWrapper):
    """:class:`mmengine.optim.AmpOptimWrapper` with the loss guard; the gradient check is left
    to the loss scaler, which already skips steps with overflowing gradients."""

    check_gradients = False

    def __init__(self, on_nonfinite: str = 'stop', max_consecutive_skips: int = 20,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._setup_guard(on_nonfinite, max_consecutive_skips)
