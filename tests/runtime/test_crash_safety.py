"""A killed run loses nothing: atomic checkpoint writes, delete-after-save, resume from a copy."""
import os
import shutil
import signal

import pytest
import torch

from rf.checkpoint import load_checkpoint_file
from rf.engine import atomic_files
from rf.engine.resume import find_resume_checkpoint

from tiny_training import make_tiny_setup, run

# 8 iterations, a checkpoint every 2, only the newest 2 kept, and EMA weights that resume must
# bring back too. One loader worker: resuming is then bit-exact (see test_end_to_end).
EXTRA = """
train_cfg = dict(max_iters=8, val_interval=100)
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=8, T_max=8,
                        eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook'), dict(type='EMAHook', momentum=0.1)]
"""


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('crash')
    config = make_tiny_setup(root, EXTRA)[1]
    reference = root / 'uninterrupted'
    run('tools/train.py', config, '--work-dir', reference)
    return root, config, load_checkpoint_file(str(reference / 'iter_8.pth'))


def train_and_kill(mode, count, config, work_dir):
    result = run('tests/helpers/train_and_kill.py', mode, count, '--', config, '--work-dir', work_dir,
                 check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr[-3000:]


def assert_only_complete_checkpoints(work_dir, expected_last_iter):
    for path in work_dir.glob('*.pth'):
        load_checkpoint_file(str(path))  # raises on a truncated file
    pointed = (work_dir / 'last_checkpoint').read_text().strip()
    assert load_checkpoint_file(pointed)['meta']['iter'] == expected_last_iter


def assert_same_as_uninterrupted(work_dir, reference):
    resumed = load_checkpoint_file(str(work_dir / 'iter_8.pth'))
    assert resumed['meta']['iter'] == 8
    for part in ('state_dict', 'ema_state_dict'):
        assert set(resumed[part]) == set(reference[part])
        for key, value in reference[part].items():
            assert torch.equal(value, resumed[part][key]), (part, key)


@pytest.mark.slow
def test_killed_right_after_a_checkpoint_resumes_from_a_copied_work_dir(setup):
    root, config, reference = setup
    work_dir = root / 'killed_after'
    train_and_kill('after-save', 2, config, work_dir)  # dies right after iter_4.pth
    assert_only_complete_checkpoints(work_dir, 4)
    # last_checkpoint holds an absolute path into the old folder; the copy must resume from
    # its own files (the original is deleted so a stale path cannot be used by accident).
    copy = root / 'moved' / 'work'
    shutil.copytree(work_dir, copy)
    shutil.rmtree(work_dir)
    assert find_resume_checkpoint(str(copy)) == str(copy / 'iter_4.pth')
    result = run('tools/train.py', config, '--work-dir', copy, '--resume')
    assert 'resumed' in (result.stdout + result.stderr).lower()
    assert_same_as_uninterrupted(copy, reference)
    assert sorted(p.name for p in copy.glob('*.pth')) == ['iter_6.pth', 'iter_8.pth']


@pytest.mark.slow
def test_killed_in_the_middle_of_a_save_keeps_the_previous_checkpoint(setup):
    root, config, reference = setup
    work_dir = root / 'killed_during'
    train_and_kill('during-save', 3, config, work_dir)  # half of iter_6.pth written
    partial = list(work_dir.glob('.iter_6.pth.*.rf-tmp'))
    assert len(partial) == 1 and not (work_dir / 'iter_6.pth').exists()
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth', 'iter_4.pth']
    assert_only_complete_checkpoints(work_dir, 4)
    run('tools/train.py', config, '--work-dir', work_dir, '--resume')
    assert not list(work_dir.glob('.*.rf-tmp'))  # the partial file was cleaned up
    assert_same_as_uninterrupted(work_dir, reference)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / 'last_checkpoint'
    atomic_files.atomic_write_text(target, 'old')

    def fail(handle, data):
        handle.write(data[:2])
        raise OSError('disk full')
    monkeypatch.setattr(atomic_files, '_write_and_sync', fail)
    with pytest.raises(OSError, match='disk full'):
        atomic_files.atomic_write_text(target, 'new contents')
    assert target.read_text() == 'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_find_resume_checkpoint(tmp_path):
    assert find_resume_checkpoint(str(tmp_path / 'missing')) is None
    assert find_resume_checkpoint(str(tmp_path)) is None
    for name in ('iter_2.pth', 'iter_10.pth', 'epoch_3.pth'):
        (tmp_path / name).write_bytes(b'x')
    # No pointer: the newest iteration checkpoint (numerically, not by name).
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_10.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/old_run/iter_2.pth')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_10.pth')
