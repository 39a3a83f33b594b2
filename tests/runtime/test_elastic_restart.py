"""Elastic training (tools/dist_train.sh with MAX_RESTARTS): a worker killed mid-run is restarted
by torchrun with the whole group, which resumes from the last complete checkpoint without being
told to and ends with the weights of an uninterrupted run (2 gloo processes on the CPU)."""
import os
import subprocess

import pytest
import torch

from rf.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT
from tiny_training import PYTHON, make_tiny_setup

pytestmark = pytest.mark.slow  # spawns training processes (40-90 s on 2 shared cores)

# 4 iterations, a checkpoint after each, EMA weights that resume must bring back, no validation.
BASE = """
custom_hooks = [dict(type='RNGStateHook'), dict(type='EMAHook', momentum=0.1)]
train_cfg = dict(max_iters=4, val_interval=100)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=5), logger=dict(interval=1))
"""
# The same, with rank 1 killing itself (SIGKILL) after iteration 2 of torchrun's first attempt.
KILLED = """
custom_imports = dict(imports=['elastic_kill'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='EMAHook', momentum=0.1),
                dict(type='KillOnceHook', after_iter=2, rank=1)]
"""


def dist_train(config, work_dir, max_restarts=0):
    """tools/dist_train.sh with 2 CPU processes; the CompletedProcess (asserted successful)."""
    helpers = str(REPO_ROOT / 'tests' / 'helpers')
    env = dict(os.environ, PYTHON=PYTHON, OMP_NUM_THREADS='1', RF_DEVICE='cpu',
               MAX_RESTARTS=str(max_restarts),
               PYTHONPATH=os.pathsep.join(filter(None, [helpers, os.environ.get('PYTHONPATH')])))
    try:
        result = subprocess.run(
            ['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir)],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as error:  # show where it stopped, not pytest's repr
        tail = (error.stderr or b'')[-6000:]
        raise AssertionError(f'dist_train.sh hung:\n{tail.decode(errors="replace")}') from None
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """An uninterrupted plain run, and an elastic run whose rank 1 dies after iteration 2."""
    root = tmp_path_factory.mktemp('elastic')
    # One loader worker per rank: resuming is then bit-exact (see tests/runtime/test_crash_safety).
    plain = make_tiny_setup(root, BASE)[1]
    killed = plain.with_name('tiny_killed.py')
    killed.write_text(plain.read_text() + KILLED)
    dist_train(plain, root / 'plain')
    result = dist_train(killed, root / 'elastic', max_restarts=2)
    return root, result.stdout + result.stderr


def test_the_killed_worker_was_restarted_and_resumed_from_the_last_checkpoint(runs):
    root, log = runs
    assert 'KillOnceHook: rank 1 kills itself after iteration 2' in log
    assert log.count('KillOnceHook:') == 1  # the restarted group did not die again
    expected = f"elastic restart 1: resuming from {root / 'elastic' / 'iter_2.pth'}"
    assert log.count(expected) == 1, log[-5000:]  # one line, from rank 0
    assert 'elastic restart 2' not in log


def test_the_resumed_run_ends_with_the_uninterrupted_weights(runs):
    root, _ = runs
    reference = load_checkpoint_file(str(root / 'plain' / 'iter_4.pth'))
    resumed = load_checkpoint_file(str(root / 'elastic' / 'iter_4.pth'))
    assert resumed['meta']['iter'] == 4
    for part in ('state_dict', 'ema_state_dict'):
        assert set(resumed[part]) == set(reference[part])
        for key, value in reference[part].items():
            assert torch.equal(value, resumed[part][key]), (part, key)
