"""Optimizer wrappers that never apply a step whose loss (or gradient) is NaN or infinite.

``on_nonfinite='stop'`` (default) raises :class:`NonFiniteLossError` before the weights change,
so the run stops with its last good checkpoint intact; ``'skip'`` drops that step (counted and
logged) and stops only after ``max_consecutive_skips`` bad steps in a row.

The check adds no collective and no extra pass over the gradients: backward always runs, so a
non-finite loss on any rank makes the gradients that DDP averages non-finite on every rank, and
the decision is taken on those (identical) gradients, from the total norm that gradient clipping
computes anyway (one norm pass when no clipping is configured). Under mixed precision the loss
scaler already skips steps with non-finite gradients on every rank; the guard then only adds the
policy for non-finite losses.
"""
import math
from typing import List, Optional

import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from rf.registry import OPTIM_WRAPPERS

POLICIES = ('stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """Training met a NaN/infinite loss or gradient and the policy is to stop."""
    rf_user_error = True


def total_grad_norm(grads: List[torch.Tensor]) -> torch.Tensor:
    """The 2-norm of all gradients together, as clipping computes it (non-finite if any is)."""
    norms = torch._foreach_norm(grads) if hasattr(torch, '_foreach_norm') else [
        g.norm() for g in grads]
    return torch.linalg.vector_norm(torch.stack([n.float() for n in norms]))


def first_nonfinite(losses: List[torch.Tensor]) -> Optional[torch.Tensor]:
    """The first of this accumulation window's losses that is not finite, or None (one host
    read for the whole window)."""
    if not losses or bool(torch.isfinite(torch.stack([loss.float().sum()
                                                      for loss in losses])).all()):
        return None
    return next(loss for loss in losses if not bool(torch.isfinite(loss).all()))


class _NonFiniteGuard:
    """The guard shared by the plain and the mixed-precision wrapper."""

    def _setup_guard(self, on_nonfinite: str, max_consecutive_skips: int) -> None:
        if on_nonfinite not in POLICIES:
            raise ValueError(f'optim_wrapper.on_nonfinite must be one of {POLICIES}, got '
                             f'{on_nonfinite!r}.')
        self.on_nonfinite = on_nonfinite
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.skipped_steps = 0
        self._consecutive_skips = 0
        self._window_losses: List[torch.Tensor] = []

    def _grads(self) -> List[torch.Tensor]:
        return [p.grad for group in self.optimizer.param_groups for p in group['params']
                if p.grad is not None]

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

    def _handle_window(self, bad_loss: Optional[torch.Tensor], zero_kwargs: dict) -> None:
        """Report this accumulation window as bad and drop its gradients."""
        self.zero_grad(**zero_kwargs)
        if bad_loss is not None:
            self._handle('loss', bad_loss)
        else:
            self._handle('gradient', None)

    def update_params(self, loss: torch.Tensor, step_kwargs=None, zero_kwargs=None) -> None:
        step_kwargs, zero_kwargs = step_kwargs or {}, zero_kwargs or {}
        self._window_losses.append(loss.detach())
        self.backward(self.scale_loss(loss))
        if not self.should_update():
            return
        losses, self._window_losses = self._window_losses, []
        if self._guarded_step(losses, step_kwargs, zero_kwargs):
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

    def _clips_by_norm(self) -> bool:
        return bool(self.clip_grad_kwargs) and self.clip_func is torch.nn.utils.clip_grad_norm_

    def _guarded_step(self, losses, step_kwargs: dict, zero_kwargs: dict) -> bool:
        """Step unless the gradients are non-finite; decided on the total gradient norm (the one
        clipping computes, with one host read), identical on every rank after DDP's average."""
        grads = self._grads()
        if not grads:
            self.optimizer.step(**step_kwargs)
            return True
        if self._clips_by_norm():  # clips in place; a non-finite norm is caught below
            params = [p for group in self.optimizer.param_groups for p in group['params']
                      if p.requires_grad and p.grad is not None]
            norm = float(self.clip_func(params, **self.clip_grad_kwargs))
            self.message_hub.update_scalar(f'train/{self.grad_name}', norm)
        else:
            norm = float(total_grad_norm(grads))
        if not math.isfinite(norm):
            self._handle_window(first_nonfinite(losses), zero_kwargs)
            return False
        if self.clip_grad_kwargs and not self._clips_by_norm():
            self._clip_grad()  # clipping by value
        self.optimizer.step(**step_kwargs)
        return True


@OPTIM_WRAPPERS.register_module()
class GuardedAmpOptimWrapper(_NonFiniteGuard, AmpOptimWrapper):
    """:class:`mmengine.optim.AmpOptimWrapper` with the loss guard.

    Non-finite gradients are the loss scaler's business: it skips such steps on every rank (the
    gradients are equal after DDP's average) and lowers the scale. A non-finite loss makes the
    gradients non-finite too, so the scaler has skipped that step when the policy acts on it.
    """

    def __init__(self, on_nonfinite: str = 'stop', max_consecutive_skips: int = 20,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._setup_guard(on_nonfinite, max_consecutive_skips)

    def _guarded_step(self, losses, step_kwargs: dict, zero_kwargs: dict) -> bool:
        self.step(**step_kwargs)  # the scaler keeps every rank's scale equal, bad step or not
        bad_loss = first_nonfinite(losses)
        if bad_loss is not None:
            self._handle_window(bad_loss, zero_kwargs)
            return False
        return True
