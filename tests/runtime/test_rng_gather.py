"""RNGStateHook gathers the ranks' random states only where a checkpoint may be saved (issue
17.7: no all_gather_object every iteration), and a checkpoint never holds stale states."""
from types import SimpleNamespace

import pytest
from mmengine.hooks import CheckpointHook
from mmengine.logging import MMLogger

from rf.engine import rng_state_hook
from rf.engine.rng_state_hook import KEY, RNGStateHook


@pytest.fixture
def two_ranks(monkeypatch):
    """Pretend to be one of two processes; record each gather."""
    gathers = []

    def fake_gather(state):
        gathers.append(state)
        return [state, state]
    monkeypatch.setattr(rng_state_hook, 'all_gather_object', fake_gather)
    monkeypatch.setattr(RNGStateHook, '_several_processes', staticmethod(lambda: True))
    return gathers


def make_runner(checkpoint_hook, max_iters=5, max_epochs=1):
    return SimpleNamespace(hooks=[checkpoint_hook], iter=0, epoch=0, max_iters=max_iters,
                           max_epochs=max_epochs, logger=MMLogger.get_instance('rng_gather'))


def train_iters(hook, runner, count):
    for index in range(count):
        runner.iter = index
        hook.after_train_iter(runner, index)


def test_gathers_only_at_iterations_with_a_checkpoint(two_ranks):
    hook, runner = RNGStateHook(), make_runner(CheckpointHook(interval=2, by_epoch=False))
    gathered_at = []
    for index in range(5):
        runner.iter = index
        before = len(two_ranks)
        hook.after_train_iter(runner, index)
        if len(two_ranks) > before:
            gathered_at.append(index + 1)
    assert gathered_at == [2, 4, 5]  # the interval, and save_last at the final iteration


def test_epoch_checkpoints_gather_after_the_epoch(two_ranks):
    hook, runner = RNGStateHook(), make_runner(CheckpointHook(interval=1, by_epoch=True))
    train_iters(hook, runner, 3)
    assert two_ranks == []
    hook.after_train_epoch(runner)
    assert len(two_ranks) == 1
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint[KEY] == [two_ranks[0], two_ranks[0]]


def test_save_best_gathers_after_validation_once(two_ranks):
    hook = RNGStateHook()
    runner = make_runner(CheckpointHook(interval=100, by_epoch=False, save_best='PSNR',
                                               rule='greater'))
    train_iters(hook, runner, 2)
    assert two_ranks == []
    hook.after_val_epoch(runner, {'PSNR': 20.0})
    hook.after_val_epoch(runner, {'PSNR': 21.0})  # nothing new to gather
    assert len(two_ranks) == 1
    hook.after_val_epoch(runner, {})  # no metrics: MMEngine saves no best checkpoint
    assert len(two_ranks) == 1


def test_a_checkpoint_saved_elsewhere_holds_no_stale_states(two_ranks):
    hook, runner = RNGStateHook(), make_runner(CheckpointHook(interval=2, by_epoch=False))
    train_iters(hook, runner, 3)  # gathered after iteration 2, not after 3
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    assert KEY not in checkpoint
