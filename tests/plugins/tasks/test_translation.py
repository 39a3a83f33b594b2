"""The translation task (x̂0 = a source-domain image, x0 = a target-domain image, no condition)
and its configs: afhq_dog2cat.py and celebahq_male2female.py, each trained for one epoch on
generated domain folders and tested with tools/test.py (FID against the target domain)."""
import json
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement
from torch import nn

from rf.diffusion import q_sample
from rf.registry import MODELS, TASKS
from rf_plugins.tasks.translation import TranslationTask

from conftest import REPO_ROOT
from metric_weights import write_fake_hub_cache
from tiny_training import run

CONFIGS = {'afhq_dog2cat.py': ('dog', 'cat'), 'celebahq_male2female.py': ('male', 'female')}
TINY_BACKBONE = {'model.backbone.dim': 8, 'model.backbone.dim_mults': (1, 2, 4)}


class SpyBackbone(nn.Module):
    """Records every input and step index; predicts zeros (any resnoise will do here)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.calls = []

    def forward(self, x, t):
        self.calls.append((x.detach().clone(), t.detach().clone()))
        return torch.zeros_like(x[:, :3]) * self.scale


def translation_model(backbone=None):
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'afhq_dog2cat.py'))
    model_cfg = cfg.model.to_dict()
    model_cfg['backbone'] = backbone if backbone is not None else \
        dict(model_cfg['backbone'], dim=8, dim_mults=(1, 2))
    return MODELS.build(model_cfg)


def batch(sources, targets):
    return dict(inputs=dict(degraded=list(sources)),
                data_samples=[BaseDataElement(gt=t) for t in targets])


def images(seed, count=2, size=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=g)


def test_task_starts_from_the_source_and_gives_no_condition():
    task = TASKS.build(dict(type='translation'))
    assert isinstance(task, TranslationTask)
    source, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    inputs = dict(degraded=source, gt=target, mask=torch.ones(2, 1, 8, 8))
    assert task.degraded(inputs) is source
    assert task.condition(inputs) == (None, None)
    with pytest.raises(KeyError, match="no 'degraded'"):
        task.degraded(dict(gt=target))


def test_training_diffuses_from_the_source_towards_the_target():
    """loss(): x_t is the forward marginal with x0 = the target image and x̂0 = the source,
    and the network gets x_t alone (3 channels)."""
    spy = SpyBackbone()
    model = translation_model(spy)
    data = model.data_preprocessor(batch(images(0, 4), images(1, 4)), training=True)
    torch.manual_seed(7)
    model(**data, mode='loss')['loss'].backward()
    assert spy.scale.grad is not None
    (x_t, steps), = spy.calls
    assert x_t.shape == (4, 3, 16, 16)  # no condition channels
    torch.manual_seed(7)  # the draws loss() made: t, then the noise
    t = torch.randint(1, model.schedule.T_acc + 1, (4,))
    noise = torch.randn(4, 3, 16, 16)
    source, target = data['inputs']['degraded'], data['inputs']['gt']
    torch.testing.assert_close(steps, t - 1)
    torch.testing.assert_close(x_t, q_sample(model.schedule, target, source, t, noise))


def test_sampling_starts_from_the_source_and_never_shows_it_to_the_network():
    """Two sources, the same seed: the first network inputs differ by exactly
    (1 - √ᾱ_T')·(x̂0 - x̂0') = 0.5·(x̂0 - x̂0') (T=134 is truncated), and every input has 3
    channels (x_t only) over the 50 steps."""
    spy = SpyBackbone()
    model = translation_model(spy)
    assert model.schedule.T_acc == 50 and model.schedule.truncated
    firsts = []
    for seed in (0, 1):
        data = model.data_preprocessor(batch(images(seed, 1), images(2, 1)), training=False)
        spy.calls.clear()
        model(**data, mode='predict')
        assert len(spy.calls) == 50 and all(x.shape[1] == 3 for x, _ in spy.calls)
        assert [int(t) for _, t in spy.calls] == list(range(49, -1, -1))
        firsts.append((spy.calls[0][0], data['inputs']['degraded']))
    (x_a, source_a), (x_b, source_b) = firsts
    torch.testing.assert_close(x_a - x_b, 0.5 * (source_a - source_b))


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_settings(name):
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / name))
    source, target = CONFIGS[name]
    model = MODELS.build(cfg.model)
    assert model.schedule.T == 134 and model.schedule.T_acc == 50  # 50 sampling steps
    assert cfg.model.backbone.type == 'ResfusionUNet' and cfg.model.backbone.dim == 64
    assert cfg.model.backbone.in_channels == 3 and cfg.model.task.type == 'translation'
    assert model.fuser.fused_channels(3) == 3
    with torch.no_grad():
        x = torch.zeros(1, 3, 64, 64)
        assert model.network(x, torch.tensor([50]), {'degraded': x}).shape == (1, 3, 64, 64)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1.1e-4)
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0
    assert cfg.optim_wrapper.optimizer.lr * cfg.param_scheduler[0].eta_min_ratio == \
        pytest.approx(3e-5)
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=32)
    assert cfg.train_dataloader.batch_size == 32
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'),
                          ('test_dataloader', 'val')):
        dataset = cfg[loader].dataset
        assert (dataset.type, dataset.split) == ('UnpairedDomainsDataset', split)
        assert (dataset.source, dataset.target) == (source, target)
    assert [m.type for m in cfg.test_evaluator] == ['FID']
    hooks = [h.type for h in cfg.custom_hooks]
    assert 'SetDatasetEpochHook' in hooks and 'EMAHook' in hooks
    assert cfg.default_hooks.checkpoint.type == 'CrashSafeCheckpointHook'
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope='module')
def inception_weights(tmp_path_factory):
    return write_fake_hub_cache(tmp_path_factory.mktemp('torch_home'), lpips=False)


def write_layout(root, domains):
    """Two images per domain and split, of two sizes (the pipeline scales and crops to 64)."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for domain, size in zip(domains, ((72, 80), (96, 96))):
            folder = root / split / domain
            folder.mkdir(parents=True)
            for i in range(2):
                cv2.imwrite(str(folder / f'{domain}_{i}.png'),
                            rng.integers(0, 256, (*size, 3), dtype=np.uint8))


def options(mapping):
    return ['--cfg-options'] + [f'{k}={list(v) if isinstance(v, tuple) else v}'
                                for k, v in mapping.items()]


def logged_fid(work_dir):
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'FID' in record:
                return record['FID']
    raise AssertionError(f'no validation FID under {work_dir}')


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_one_epoch_trains_checkpoints_and_tests(tmp_path, inception_weights, name):
    source, target = CONFIGS[name]
    data = tmp_path / 'data'
    write_layout(data, (source, target))
    env = {'TORCH_HOME': str(inception_weights)}
    config = REPO_ROOT / 'configs' / name
    work = tmp_path / 'work'
    run('tools/train.py', config, '--work-dir', work, *options({
        'train_dataloader.dataset.data_root': data, 'val_dataloader.dataset.data_root': data,
        'test_dataloader.dataset.data_root': data, 'train_dataloader.batch_size': 2,
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1, **TINY_BACKBONE}), env=env)
    assert (work / 'epoch_1.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    assert list(work.glob('best_FID_epoch_1.pth'))
    val_fid = logged_fid(work)
    assert math.isfinite(val_fid) and val_fid >= 0
    grid = cv2.imread(str(work / 'val_pictures' / 'epoch_1' / 'grids' / f'{source}_0.png'))
    assert grid.shape == (64, 3 * 64 + 2 * 4, 3)  # source | translation | a target image

    out = tmp_path / 'translated'
    result = run('tools/test.py', config, work / 'epoch_1.pth', '--work-dir', tmp_path / 'test',
                 '--out-dir', out, *options({'test_dataloader.dataset.data_root': data,
                                             **TINY_BACKBONE}), env=env)
    assert 'metrics: FID:' in result.stdout
    metrics = json.loads((tmp_path / 'test' / 'metrics.json').read_text())['metrics']
    assert set(metrics) == {'FID'}
    # Seeded sampling and the EMA weights saved as the state_dict: test repeats validation.
    assert metrics['FID'] == pytest.approx(val_fid, rel=1e-6)
    for i in range(2):
        assert cv2.imread(str(out / f'{source}_{i}.png')).shape == (64, 64, 3)
        assert (out / 'grids' / f'{source}_{i}.png').is_file()
