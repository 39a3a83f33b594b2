"""LOL-v2-real: the loader on generated files in the official layout, the config, and one epoch of
training then tools/test.py with the LOL protocols' PSNR/SSIM and LPIPS (fake AlexNet weights) at
both sizes, and without the weights (LPIPS skipped with a warning naming the file)."""
import json
import math

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rf.registry import DATASETS

from conftest import REPO_ROOT
from metric_weights import offline_env, write_fake_hub_cache
from tiny_training import run

CONFIG = REPO_ROOT / 'configs' / 'lolv2_real.py'
TEST_METRICS = {f'{score}@{protocol}' for score in ('PSNR', 'SSIM', 'LPIPS')
                for protocol in ('lol', 'lol_256')}


def write_lolv2(root, split, sizes, seed=0):
    """``root/{Train,Test}/{Low,Normal}/{low,normal}NNNNN.png`` pairs of the given sizes."""
    rng = np.random.default_rng(seed)
    for i, (height, width) in enumerate(sizes, start=1):
        normal = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        low = (normal // 5).astype(np.uint8)
        for sub, prefix, image in (('Low', 'low', low), ('Normal', 'normal', normal)):
            folder = root / split / sub
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f'{prefix}{i:05d}.png'), image)


def build_dataset(root, split, pipeline=()):
    with DefaultScope.overwrite_default_scope('rf'):  # the pipeline's transforms are rf's
        return DATASETS.build(dict(type='LOLv2RealDataset', data_root=str(root), split=split,
                                   pipeline=list(pipeline), test_mode=split == 'test'))


def test_pairs_low_with_normal_of_the_same_number(tmp_path):
    write_lolv2(tmp_path, 'Train', [(20, 24), (22, 26), (24, 28)])
    write_lolv2(tmp_path, 'Test', [(30, 32)], seed=1)
    train = build_dataset(tmp_path, 'train', [dict(type='LoadRestorationImages'),
                                              dict(type='PackRestorationInputs')])
    assert len(train) == 3 and len(build_dataset(tmp_path, 'test')) == 1
    info = train.get_data_info(1)
    assert info['degraded_path'].endswith('Train/Low/low00002.png')
    assert info['gt_path'].endswith('Train/Normal/normal00002.png')
    sample = train[1]
    expected = cv2.cvtColor(cv2.imread(info['gt_path']), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(sample['data_samples'].gt.numpy().transpose(1, 2, 0), expected)
    low = cv2.cvtColor(cv2.imread(info['degraded_path']), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(sample['inputs']['degraded'].numpy().transpose(1, 2, 0), low)


def test_missing_partner_and_bad_split_are_named(tmp_path):
    write_lolv2(tmp_path, 'Train', [(20, 24), (20, 24)])
    (tmp_path / 'Train' / 'Normal' / 'normal00002.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'low00002\.png'):
        build_dataset(tmp_path, 'train')
    with pytest.raises(ValueError, match="split must be one of"):
        build_dataset(tmp_path, 'val')


def test_config_has_the_lol_recipe_and_lpips_at_both_protocols():
    cfg = Config.fromfile(str(CONFIG))
    lol = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol.py'))
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'auto_scale_lr',
                'val_evaluator'):
        assert cfg[key] == lol[key], key
    assert cfg.train_dataloader.dataset.type == 'LOLv2RealDataset'
    assert cfg.train_dataloader.dataset.pipeline[1].transforms[0].height == 256
    assert [(m.type, m.protocol, m.lpips) for m in cfg.test_evaluator] == [
        ('ProtocolMetric', 'lol', 'auto'), ('ProtocolMetric', 'lol_256', 'auto')]
    # Validation (model selection) needs no weights.
    assert not any(m.get('lpips') for m in cfg.val_evaluator)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('lolv2')
    data = root / 'data'
    write_lolv2(data, 'Train', [(256, 264), (260, 256)])  # at least the 256 training patch
    write_lolv2(data, 'Test', [(61, 75), (48, 64)], seed=1)  # odd sizes: padding
    overrides = [f'train_dataloader.dataset.data_root={data}',
                 f'val_dataloader.dataset.data_root={data}',
                 f'test_dataloader.dataset.data_root={data}',
                 'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
                 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
                 # Narrow, but all four levels: the middle's full attention stays at 32x32
                 # on the 256 patches (two levels would attend over 128x128 pixels).
                 'model.backbone.dim=8']
    work_dir = root / 'work'
    run('tools/train.py', CONFIG, '--work-dir', work_dir, '--cfg-options', *overrides)
    return root, overrides, work_dir


@pytest.mark.slow
def test_one_epoch_trains_and_the_test_tool_reports_lpips(trained):
    root, overrides, work_dir = trained
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file()
    torch_home = write_fake_hub_cache(root / 'torch_home', fid=False)
    result = run('tools/test.py', CONFIG, checkpoint, '--work-dir', root / 'test_work',
                 '--cfg-options', *overrides, env={'TORCH_HOME': str(torch_home)})
    metrics = json.loads((root / 'test_work' / 'metrics.json').read_text())['metrics']
    assert TEST_METRICS <= set(metrics), metrics
    assert all(math.isfinite(metrics[k]) for k in TEST_METRICS)
    assert metrics['LPIPS@lol'] > 0 and metrics['LPIPS@lol_256'] > 0
    assert 'LPIPS@lol:' in result.stdout


@pytest.mark.slow
def test_the_test_tool_without_lpips_weights_scores_the_rest_and_says_what_to_provide(trained):
    root, overrides, work_dir = trained
    result = run('tools/test.py', CONFIG, work_dir / 'epoch_1.pth', '--work-dir',
                 root / 'no_weights', '--cfg-options', *overrides, check=False,
                 env=offline_env(root / 'empty_cache'))
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((root / 'no_weights' / 'metrics.json').read_text())['metrics']
    assert set(metrics) == TEST_METRICS - {'LPIPS@lol', 'LPIPS@lol_256'}
    output = result.stdout + result.stderr
    skipped = [line for line in output.splitlines() if 'LPIPS skipped' in line]
    assert skipped and 'alexnet-owt-7be5be79.pth' in skipped[0]
    assert str(root / 'empty_cache' / 'hub' / 'checkpoints' / 'alexnet-owt-7be5be79.pth') \
        in skipped[0]
