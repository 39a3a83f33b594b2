"""Which weights of a checkpoint are published: the moving average when there is one.

MMEngine's ``EMAHook`` saves the average *as* ``state_dict`` and the raw weights under
``ema_state_dict`` (keys ``module.<name>`` plus the averager's ``steps``): it swaps the two at
every save, so that the checkpoint deploys the average (tests/runtime/test_ema.py checks this).
A checkpoint written by anything else that carries ``ema_state_dict`` is taken to hold the
average there, as its name says, and its keys lose the ``module.`` prefix.
"""
from typing import Dict, Tuple

import torch

from rf.checkpoint import CheckpointError

EMA = 'moving average of the weights (EMAHook)'
RAW = 'the model\'s weights (no moving average in the checkpoint)'
PLAIN = 'a plain state dict'


def written_by_mmengine(checkpoint: dict) -> bool:
    """MMEngine's ``Runner.save_checkpoint`` always records its version in ``meta``."""
    meta = checkpoint.get('meta')
    return isinstance(meta, dict) and 'mmengine_version' in meta


def strip_ema_prefix(ema_state: Dict[str, object]) -> Dict[str, object]:
    """``module.<name>`` -> ``<name>``; the averager's own entries (``steps``) are dropped."""
    return {key[len('module.'):]: value for key, value in ema_state.items()
            if key.startswith('module.')}


def published_weights(checkpoint, source: str) -> Tuple[Dict[str, torch.Tensor], str]:
    """``(state dict, which weights)`` of a loaded checkpoint, keys as the model's own."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{source} holds a {type(checkpoint).__name__}, not a checkpoint.')
    state, ema = checkpoint.get('state_dict'), checkpoint.get('ema_state_dict')
    if isinstance(ema, dict) and ema:
        if written_by_mmengine(checkpoint) and isinstance(state, dict):
            return dict(state), EMA  # swapped in by EMAHook.before_save_checkpoint
        averaged = strip_ema_prefix(ema)
        if averaged:
            return averaged, EMA
    if isinstance(state, dict) and state:
        return dict(state), RAW
    if checkpoint and all(torch.is_tensor(value) for value in checkpoint.values()):
        return dict(checkpoint), PLAIN
    raise CheckpointError(f'{source} holds no weights (expected an MMEngine checkpoint with '
                          'state_dict, or a plain state dict).')
