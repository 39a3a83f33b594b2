"""Weights as ``.safetensors``: written from a state dict, read back as a weights-only checkpoint.

A ``.safetensors`` file holds named tensors and a string-to-string header, nothing executable, so
it is the portable format a published model ships in. Read back, it looks like an MMEngine
checkpoint that holds only weights (``{'state_dict': ..., 'meta': ...}``), so every path that
takes a ``.pth`` (``init_model``, ``check_weights``, ``load_from``) takes it unchanged; asking it
for what only a training checkpoint has (``resume``: the iteration, the optimizer) gives one
clear line instead of a ``KeyError``.
"""
import json
import os
import struct
from typing import Dict, Optional

import torch

from rf.checkpoint import CheckpointError

SUFFIX = '.safetensors'
_MAX_HEADER = 100_000_000  # the safetensors format's own limit on the header's size


class WeightsOnlyCheckpoint(dict):
    """A dict whose missing keys name the file and say it holds weights only."""

    def __init__(self, data: dict, path: str) -> None:
        super().__init__(data)
        self.path = path

    def __missing__(self, key):
        raise CheckpointError(
            f'{self.path} holds only weights (no {key!r}): it can start a run (load_from) or be '
            'tested and restored with, but not resume training; resume from a .pth checkpoint.')


def is_safetensors(path: str) -> bool:
    """``path`` ends in ``.safetensors`` or starts as one does (an 8-byte header size, then a
    JSON header)."""
    if path.endswith(SUFFIX):
        return True
    try:
        with open(path, 'rb') as handle:
            head = handle.read(9)
    except OSError:
        return False
    if len(head) < 9 or head[8:9] != b'{':
        return False
    size = struct.unpack('<Q', head[:8])[0]
    return size < min(_MAX_HEADER, os.path.getsize(path))


def portable_tensors(state: Dict[str, object], source: str) -> Dict[str, torch.Tensor]:
    """Each tensor detached, on the CPU, contiguous and in storage of its own (safetensors
    refuses shared storage, e.g. tied weights); anything that is not a tensor is refused."""
    others = [key for key, value in state.items() if not torch.is_tensor(value)]
    if others:
        named = ', '.join(others[:5])
        raise CheckpointError(f'{source}: the weights hold non-tensor entries ({named}); only '
                              'tensors can be published.')
    return {key: value.detach().to('cpu').contiguous().clone() for key, value in state.items()}


def safetensors_bytes(state: Dict[str, torch.Tensor], metadata: Optional[dict] = None) -> bytes:
    """The ``.safetensors`` encoding of ``state`` with ``metadata`` as its string header,
    deterministic (the same weights and metadata give the same bytes, hence the same sha256):
    safetensors writes its ``__metadata__`` map in a random order, so rf writes it sorted."""
    from safetensors.torch import save
    raw = save(portable_tensors(state, 'state dict'))
    size = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    if metadata:
        header = {'__metadata__': {str(k): str(metadata[k]) for k in sorted(metadata)},
                  **header}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return struct.pack('<Q', len(text)) + text + raw[8 + size:]


def read_metadata(path: str) -> Dict[str, str]:
    """The string header (``__metadata__``) of a ``.safetensors`` file; {} when it has none."""
    with open(path, 'rb') as handle:
        size = struct.unpack('<Q', handle.read(8))[0]
        header = json.loads(handle.read(size))
    return dict(header.get('__metadata__') or {})


def _device(map_location) -> str:
    if map_location is None or callable(map_location) or isinstance(map_location, dict):
        return 'cpu'  # a remapping function or table: load on the CPU, as torch.load starts
    return str(map_location)


def load_safetensors(path: str, map_location='cpu') -> WeightsOnlyCheckpoint:
    """``{'state_dict': tensors, 'meta': header}`` from ``path``; a truncated or corrupt file is a
    :class:`CheckpointError` naming it."""
    from safetensors.torch import load_file
    try:
        state = load_file(path, device='cpu')
        meta = read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f'Could not read weights {path} (truncated or corrupt '
                              f'.safetensors?): {text}') from None
    device = _device(map_location)
    if device != 'cpu':
        state = {key: value.to(device) for key, value in state.items()}
    return WeightsOnlyCheckpoint({'state_dict': state,
                                  'meta': WeightsOnlyCheckpoint(meta, path)}, path)
