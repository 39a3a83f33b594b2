"""configs/cifar10.py end to end on a generated CIFAR-10 layout with two images: one epoch of
training with the override keys every config accepts (and a small U-Net), a checkpoint, then
tools/test.py: FID, the sample grid and the samples, with all 100 steps and with 10."""
import json

import cv2
import numpy as np
import pytest
from test_generation import write_cifar_layout

from rf.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT
from metric_weights import write_fake_hub_cache
from tiny_training import run

CONFIG = REPO_ROOT / 'configs' / 'cifar10.py'
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def overrides(data_root):
    return [*(f'{loader}.dataset.data_root={data_root}' for loader in LOADERS),
            'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            'default_hooks.checkpoint.interval=1',
            # A small U-Net: 8 base channels (GroupNorm of 8 groups), otherwise DDIM's layout.
            'model.backbone.ch=8', 'model.backbone.norm_groups=8',
            *(f'{loader}.{key}' for loader in LOADERS
              for key in ('num_workers=0', 'persistent_workers=False'))]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('cifar_e2e')
    write_cifar_layout(root / 'cifar10')
    env = {'TORCH_HOME': str(write_fake_hub_cache(root / 'torch_home', lpips=False))}
    work_dir = root / 'work'
    run('tools/train.py', CONFIG, '--work-dir', work_dir, '--cfg-options',
        *overrides(root / 'cifar10'), env=env)
    return root, work_dir, env


def read_rgb(path):
    image = cv2.imread(str(path))
    assert image is not None, f'{path} was not written'
    return image


@pytest.mark.slow
def test_one_epoch_trains_validates_and_checkpoints_the_average(trained):
    _, work_dir, _ = trained
    checkpoint = load_checkpoint_file(str(work_dir / 'epoch_1.pth'))
    assert checkpoint['meta']['epoch'] == 1 and 'ema_state_dict' in checkpoint
    scalars = [json.loads(line) for path in work_dir.glob('*/vis_data/scalars.json')
               for line in path.read_text().splitlines()]
    fids = [record['FID'] for record in scalars if 'FID' in record]
    assert len(fids) == 1 and np.isfinite(fids[0]) and fids[0] >= 0
    # Two 32x32 samples side by side, white gaps of 2, enlarged 2x by the config's grid hook.
    assert read_rgb(work_dir / 'val_pictures' / 'epoch_1' / 'samples_grid.png').shape == \
        (2 * 36, 2 * 70, 3)


@pytest.mark.slow
def test_test_tool_reports_fid_and_writes_the_grid_and_samples(trained):
    root, work_dir, env = trained
    out_dir = root / 'samples'
    result = run('tools/test.py', CONFIG, work_dir / 'epoch_1.pth', '--work-dir',
                 root / 'test_work', '--out-dir', out_dir, '--cfg-options',
                 *overrides(root / 'cifar10'), env=env)
    assert 'metrics: FID:' in result.stdout
    metrics = json.loads((root / 'test_work' / 'metrics.json').read_text())['metrics']
    assert np.isfinite(metrics['FID']) and metrics['FID'] >= 0
    grid = read_rgb(out_dir / 'samples_grid.png')
    assert grid.shape == (72, 140, 3)
    first, second = read_rgb(out_dir / 'sample_000000.png'), read_rgb(out_dir / 'sample_000001.png')
    assert first.shape == second.shape == (32, 32, 3) and not np.array_equal(first, second)
    # The grid shows exactly these samples (enlarged 2x by nearest neighbour).
    np.testing.assert_array_equal(grid[4:68:2, 4:68:2], first)

    # The same checkpoint sampled with 10 of its 100 steps: other samples, the grid in the
    # work dir (no --out-dir), FID again.
    few = root / 'test_10_steps'
    result = run('tools/test.py', CONFIG, work_dir / 'epoch_1.pth', '--work-dir', few,
                 '--cfg-options', *overrides(root / 'cifar10'), 'model.sampler.steps=10', env=env)
    assert 'metrics: FID:' in result.stdout
    assert np.isfinite(json.loads((few / 'metrics.json').read_text())['metrics']['FID'])
    assert not np.array_equal(read_rgb(few / 'samples_grid.png'), grid)
