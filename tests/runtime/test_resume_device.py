"""--resume restores the random generators wherever MMEngine mapped the checkpoint.

On a GPU MMEngine loads the resumed checkpoint with ``map_location='cuda'``, so the saved RNG
states come back as CUDA tensors, which ``torch.set_rng_state`` refuses. Without a GPU here, the
states are wrapped in :class:`FakeCudaTensor`: a tensor whose device really is ``cuda:0`` to
torch (the real setter refuses it with the GPU's error) while its bytes stay on the CPU.
"""
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils._pytree import tree_map

from rf.engine import rng_state_hook
from rf.engine.rng_state_hook import KEY, RNGStateHook, capture_rng_state, restore_rng_state
from rf.engine.safe_loading import _load_local


class FakeCudaTensor(torch.Tensor):
    """A tensor torch sees on ``cuda:0``; operations on it run on (and return) its CPU copy."""

    @staticmethod
    def __new__(cls, inner: torch.Tensor):
        return torch.Tensor._make_wrapper_subclass(cls, inner.shape, dtype=inner.dtype,
                                                   device=torch.device('cuda', 0))

    def __init__(self, inner: torch.Tensor):
        self.inner = inner

    def __repr__(self):  # the default would initialise CUDA
        return f'FakeCudaTensor({self.inner!r})'

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        def unwrap(value):
            return value.inner if isinstance(value, FakeCudaTensor) else value
        return func(*tree_map(unwrap, args), **tree_map(unwrap, kwargs or {}))


def as_if_mapped_to_cuda(payload):
    """``payload`` with every tensor on (fake) CUDA, as ``map_location='cuda'`` returns it."""
    return tree_map(lambda x: FakeCudaTensor(x) if isinstance(x, torch.Tensor) else x, payload)


def draws():
    """One draw from each generator the hook restores."""
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def scramble():
    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)


def saved_and_loaded(tmp_path, states):
    """``states`` through a real checkpoint file and rf's loader, then mapped to 'CUDA'."""
    path = tmp_path / 'rng.pth'
    torch.save({KEY: states}, path)
    return as_if_mapped_to_cuda(_load_local(str(path)))


def test_the_fake_fails_as_a_gpu_does():
    """The simulation is faithful: torch's own setter refuses the mapped state."""
    with pytest.raises(TypeError, match='ByteTensor'):
        torch.set_rng_state(FakeCudaTensor(torch.get_rng_state()))


def test_resume_restores_states_mapped_to_a_gpu(tmp_path):
    state = capture_rng_state()
    expected = draws()
    checkpoint = saved_and_loaded(tmp_path, [state])
    assert checkpoint[KEY][0]['torch'].device.type == 'cuda'
    scramble()
    RNGStateHook().after_load_checkpoint(SimpleNamespace(logger=None), checkpoint)
    assert draws() == expected


def test_cuda_state_is_set_as_a_cpu_byte_tensor(monkeypatch):
    saved = torch.arange(16, dtype=torch.uint8)
    received = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'set_rng_state', received.append)
    state = as_if_mapped_to_cuda(dict(capture_rng_state(), cuda=saved))
    restore_rng_state(state)
    (given,) = received
    assert type(given) is torch.Tensor and given.device.type == 'cpu'
    assert given.dtype == torch.uint8 and torch.equal(given, saved)


def test_each_rank_restores_its_own_state(tmp_path, monkeypatch):
    torch.manual_seed(0)
    rank0 = capture_rng_state()
    torch.manual_seed(1)
    rank1 = capture_rng_state()
    expected = draws()
    checkpoint = saved_and_loaded(tmp_path, [rank0, rank1])
    monkeypatch.setattr(rng_state_hook, 'get_world_size', lambda: 2)
    monkeypatch.setattr(rng_state_hook, 'get_rank', lambda: 1)
    scramble()
    RNGStateHook().after_load_checkpoint(SimpleNamespace(logger=None), checkpoint)
    assert draws() == expected


def test_a_state_that_is_not_bytes_is_refused_clearly():
    state = dict(capture_rng_state(), torch=torch.rand(8))
    with pytest.raises(ValueError, match="'torch' random state is not a byte tensor"):
        restore_rng_state(state)
