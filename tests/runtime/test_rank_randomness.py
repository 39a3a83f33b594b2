"""Every rank draws its own diffusion steps and noise, reproducibly, and --resume continues each
rank's own streams (randomness=dict(diff_rank_seed=True) and RNGStateHook; 2 gloo processes)."""
import os
import subprocess

import pytest
import torch

from conftest import REPO_ROOT
from rank_draws import draws_path
from tiny_training import PYTHON, make_tiny_setup

# 2 iterations, a checkpoint after each, no validation; the hook records (t, noise) per rank.
DRAWS_CONFIG = """
custom_imports = dict(imports=['rank_draws'], allow_failed_imports=False)
custom_hooks = [dict(type='RNGStateHook'), dict(type='RecordDrawsHook')]
train_cfg = dict(max_iters=2, val_interval=100)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2), logger=dict(interval=1))
"""


pytestmark = pytest.mark.slow  # spawns training processes


def dist_train(config, work_dir, *args):
    """tools/dist_train.sh with 2 CPU processes; returns {rank: {iteration: (t, noise)}}."""
    tests_dir = str(REPO_ROOT / 'tests' / 'helpers')
    env = dict(os.environ, PYTHON=PYTHON, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(filter(None, [tests_dir, os.environ.get('PYTHONPATH')])))
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir), *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    return {rank: torch.load(draws_path(work_dir, rank)) for rank in (0, 1)}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Three 2-process runs (~25 s each on 2 cores, mostly start-up): 2 iterations, a
    1-iteration rerun, and a run resumed from the first one's iteration-1 checkpoint."""
    root = tmp_path_factory.mktemp('ranks')
    config = make_tiny_setup(root, DRAWS_CONFIG)[0]
    first = dist_train(config, root / 'first')
    rerun = dist_train(config, root / 'rerun', '--cfg-options', 'train_cfg.max_iters=1')
    resumed = dist_train(config, root / 'resumed', '--resume', str(root / 'first' / 'iter_1.pth'))
    return first, rerun, resumed


def same(a, b) -> bool:
    return torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_ranks_draw_different_steps_and_noise(runs):
    first, _, _ = runs
    assert set(first[0]) == set(first[1]) == {1, 2}
    for iteration in (1, 2):
        assert not torch.equal(first[0][iteration][1], first[1][iteration][1]), iteration
    steps = [torch.cat([first[rank][i][0] for i in (1, 2)]) for rank in (0, 1)]
    assert not torch.equal(*steps)


def test_a_rerun_draws_the_same_per_rank(runs):
    first, rerun, _ = runs
    for rank in (0, 1):
        assert set(rerun[rank]) == {1}
        assert same(rerun[rank][1], first[rank][1]), rank


def test_resume_continues_each_ranks_own_stream(runs):
    first, _, resumed = runs
    for rank in (0, 1):
        assert set(resumed[rank]) == {2}
        assert same(resumed[rank][2], first[rank][2]), rank
