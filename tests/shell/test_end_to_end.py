"""tools/train.py -> checkpoint -> tools/test.py / tools/restore.py, resume, and 2-process CPU DDP."""
import json
import os
import re
import subprocess

import cv2
import numpy as np
import pytest
import torch

from rf.checkpoint import UnsafeCheckpointError, load_checkpoint_file

from conftest import REPO_ROOT
from tiny_training import PYTHON, make_tiny_setup, run, val_metrics


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('e2e')
    return root, make_tiny_setup(root)


@pytest.fixture(scope='module')
def trained(tiny):
    root, configs = tiny
    work_dir = root / 'work'
    run('tools/train.py', configs[0], '--work-dir', work_dir)
    return root, configs, work_dir


@pytest.mark.slow
def test_train_writes_checkpoints_and_validates(trained):
    _, _, work_dir = trained
    assert (work_dir / 'iter_2.pth').is_file() and (work_dir / 'iter_4.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_4.pth'))
    assert checkpoint['meta']['iter'] == 4
    assert {'optimizer', 'param_schedulers', 'message_hub', 'rng_state'} <= set(checkpoint)
    assert np.isfinite(val_metrics(work_dir)['PSNR'])


@pytest.mark.slow
def test_test_tool_reloads_the_checkpoint(trained):
    root, configs, work_dir = trained
    out_dir = root / 'restored'
    result = run('tools/test.py', configs[0], work_dir / 'iter_4.pth', '--work-dir',
                 root / 'test_work', '--out-dir', out_dir)
    metrics = json.loads((root / 'test_work' / 'metrics.json').read_text())['metrics']
    assert 'metrics: PSNR:' in result.stdout
    # The sampler is seeded, so the reloaded model scores exactly what validation scored.
    assert metrics['PSNR'] == pytest.approx(val_metrics(work_dir)['PSNR'], abs=1e-6)
    from skimage.metrics import peak_signal_noise_ratio
    test_dir = root / 'data' / 'test'
    expected = np.mean([peak_signal_noise_ratio(cv2.imread(str(test_dir / 'high' / name)),
                                                cv2.imread(str(test_dir / 'low' / name)))
                        for name in ('000.png', '001.png')])
    assert metrics['PSNR_input'] == pytest.approx(expected, abs=1e-6)
    restored = cv2.imread(str(out_dir / '000.png'))
    assert restored.shape == (37, 45, 3)
    grid = cv2.imread(str(out_dir / 'grids' / '000.png'))
    assert grid.shape == (37, 3 * 45 + 2 * 4, 3)  # input | restored | ground truth


@pytest.mark.slow
def test_resume_continues_exactly(tiny):
    """2 iterations, then --resume to 4, equals 4 uninterrupted iterations bit for bit."""
    root, configs = tiny
    full, split = root / 'full', root / 'split'
    run('tools/train.py', configs[1], '--work-dir', full)
    run('tools/train.py', configs[1], '--work-dir', split,
        '--cfg-options', 'train_cfg.max_iters=2')
    assert not (split / 'iter_4.pth').exists()
    run('tools/train.py', configs[1], '--work-dir', split, '--resume')
    a = load_checkpoint_file(str(full / 'iter_4.pth'))
    b = load_checkpoint_file(str(split / 'iter_4.pth'))
    assert b['meta']['iter'] == 4
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    assert a['optimizer']['param_groups'][0]['lr'] == b['optimizer']['param_groups'][0]['lr']


@pytest.mark.slow
def test_restore_tool_keeps_odd_sizes(trained, tmp_path):
    root, configs, work_dir = trained
    image = np.random.default_rng(1).integers(0, 256, (29, 51, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'odd.jpg'), image)
    result = run('tools/restore.py', configs[0], work_dir / 'iter_4.pth', tmp_path / 'odd.jpg',
                 tmp_path / 'out', '--device', 'cpu')
    assert 'restored 1 of 1' in result.stdout
    assert cv2.imread(str(tmp_path / 'out' / 'odd.png')).shape == (29, 51, 3)
    again = run('tools/restore.py', configs[0], work_dir / 'iter_4.pth', tmp_path / 'odd.jpg',
                tmp_path / 'out2', '--device', 'cpu')
    assert again.returncode == 0
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'out' / 'odd.png')),
                                  cv2.imread(str(tmp_path / 'out2' / 'odd.png')))


@pytest.mark.slow
def test_restore_never_overwrites_its_input(trained, tmp_path):
    root, configs, work_dir = trained
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((16, 16, 3), np.uint8))
    before = (tmp_path / 'a.png').read_bytes()
    result = run('tools/restore.py', configs[0], work_dir / 'iter_4.pth', tmp_path, tmp_path,
                 check=False)
    assert result.returncode != 0 and 'overwrite' in result.stderr
    assert (tmp_path / 'a.png').read_bytes() == before


class Payload:
    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


@pytest.mark.slow
def test_checkpoint_with_a_pickled_call_is_refused(trained, tmp_path):
    root, configs, work_dir = trained
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_4.pth'))
    checkpoint['meta']['evil'] = Payload()
    bad = tmp_path / 'bad.pth'
    torch.save(checkpoint, bad)
    with pytest.raises(UnsafeCheckpointError, match='system'):
        load_checkpoint_file(str(bad))
    for tool in (('tools/test.py', configs[0], bad, '--work-dir', tmp_path / 'w'),
                 ('tools/restore.py', configs[0], bad, work_dir.parent / 'data/test/low/000.png',
                  tmp_path / 'o')):
        result = run(*tool, check=False)
        assert result.returncode != 0
        assert 'Refusing to load' in result.stdout + result.stderr


@pytest.mark.slow
def test_two_process_cpu_distributed_training(tiny):
    root, configs = tiny
    work_dir = root / 'dist'
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(configs[0]), '2', '--work-dir', str(work_dir),
         '--cfg-options', 'train_cfg.val_interval=100'],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHON=PYTHON, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_4.pth'))
    assert checkpoint['meta']['iter'] == 4
    assert len(checkpoint['rng_state']) == 2  # one per process
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    # dist_test.sh: both processes restore their share; the metrics cover every test image.
    result = subprocess.run(
        ['bash', 'tools/dist_test.sh', str(configs[0]), str(work_dir / 'iter_4.pth'), '2',
         '--work-dir', str(root / 'dist_test')],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHON=PYTHON, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    metrics = json.loads((root / 'dist_test' / 'metrics.json').read_text())['metrics']
    assert np.isfinite(metrics['PSNR']) and np.isfinite(metrics['PSNR_input'])


@pytest.mark.slow
def test_demo_script_prints_its_summary_line(tmp_path):
    """tools/demo.sh end to end, shortened (the full run is measured in the README)."""
    overrides = ['--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
                 'model.backbone.dim=8',
                 'test_dataloader.dataset.photos=[coins]']
    result = subprocess.run(['bash', 'tools/demo.sh', *overrides], cwd=REPO_ROOT,
                            env=dict(os.environ, WORK_DIR=str(tmp_path / 'demo')),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r'demo: input PSNR \d+\.\d\d dB, restored PSNR \d+\.\d\d dB \(1 images\) -> .+/restored',
        lines[0]), result.stdout
    assert (tmp_path / 'demo' / 'restored' / 'grids' / 'coins.png').is_file()
