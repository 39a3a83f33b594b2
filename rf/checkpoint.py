"""Safe checkpoint loading: ``torch.load(weights_only=True)`` with an explicit allow-list.

MMEngine stores a few non-tensor objects in its checkpoints (its ``HistoryBuffer`` and some numpy
scalars and arrays in the message hub); those, and nothing else, are allowed. A checkpoint that
carries any other Python object is refused with a message naming it, and none of its code runs.
Published weights (``.safetensors``, :mod:`rf.zoo.safetensors_io`) and ``hf://OWNER/REPO[/FILE]``
(:mod:`rf.zoo.hub`) are accepted wherever a checkpoint path is.
"""
import builtins
import os
import re
from typing import Iterable, List

import numpy as np
import torch


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: truncated, corrupt, unsafe or for another network."""
    rf_user_error = True


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint pickles an object outside the allow-list."""


def _numpy_reconstructors() -> List[object]:
    """numpy's array and scalar reconstructors (``numpy._core`` in numpy 2, ``numpy.core`` before)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    return [multiarray._reconstruct, multiarray.scalar]


def default_allowed_globals() -> List[object]:
    """What MMEngine's own checkpoints (and rf's RNG-state hook: numpy's uint32 key) need."""
    from mmengine.logging import HistoryBuffer
    allowed = [HistoryBuffer, builtins.getattr, np.ndarray, np.dtype, *_numpy_reconstructors()]
    for name in ('Float64DType', 'Float32DType', 'Int64DType', 'Int32DType', 'BoolDType',
                 'UInt32DType'):
        dtype_cls = getattr(getattr(np, 'dtypes', None), name, None)
        if dtype_cls is not None:
            allowed.append(dtype_cls)
    return allowed


def resolve_checkpoint_path(path) -> str:
    """``path`` as a local file: ``hf://...`` is fetched through the Hugging Face cache; a
    missing file is a :class:`FileNotFoundError` naming it."""
    path = os.fspath(path)
    if path.startswith('hf://'):
        from rf.zoo.hub import resolve_hub_path
        path = resolve_hub_path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    return path


def load_checkpoint_file(path: str, map_location='cpu', extra_allowed: Iterable[object] = ()):
    """Load ``path`` with ``weights_only=True`` and the allow-list; clear errors, never code.
    A ``.safetensors`` file (or ``hf://`` path) gives ``{'state_dict': ..., 'meta': ...}``."""
    path = resolve_checkpoint_path(path)
    from rf.zoo.safetensors_io import is_safetensors, load_safetensors
    if is_safetensors(path):
        return load_safetensors(path, map_location)
    allowed = default_allowed_globals() + list(extra_allowed)
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        text = str(exc)
        if 'weights_only' in text or 'Unsupported global' in text or 'GLOBAL' in text:
            found = re.search(r'GLOBAL ([\w.]+)', text)
            detail = found.group(1) if found else text.splitlines()[0]
            raise UnsafeCheckpointError(
                f'Refusing to load {path}: it pickles a Python object outside rf\'s allow-list '
                f'({detail}). Only tensors, containers and what MMEngine itself stores are '
                f'loaded; no code from the file was run.') from None
        raise CheckpointError(f'Could not read checkpoint {path} (truncated or corrupt?): '
                              f'{type(exc).__name__}: {text.splitlines()[0] if text else exc}'
                              ) from None
