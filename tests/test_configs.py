"""Every experiment config loads, stays within one level of _base_, and builds its model."""
import ast

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rf.registry import DATASETS, MODELS
from conftest import REPO_ROOT

CONFIGS = sorted((REPO_ROOT / 'configs').glob('*.py'))


def base_files(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


def test_there_are_configs():
    assert {'lol.py', 'demo.py'} <= {p.name for p in CONFIGS}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_bases_are_one_level_deep(path):
    for base in base_files(path):
        assert not base_files(path.parent / base), f'{base} inherits again'


def _network_inputs(cfg, model, size=16):
    """The inputs the config's network reads: x̂0, plus an all-shadow mask (255s) when its
    fuser encodes or takes a shadow mask (ISTD)."""
    x = torch.zeros(1, 3, size, size)
    inputs = {'degraded': x}
    fuser = cfg.model.get('fuser', {})
    if fuser.get('mask_encoding') or fuser.get('mask_channels'):
        inputs['mask'] = torch.full((1, 1, size, size), 255.0)
    return x, inputs


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_builds_its_model(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'rf'
    model = MODELS.build(cfg.model)
    expected_target = cfg.model.get('target', 'resnoise')
    assert model.target == expected_target
    if path.name in ('lol_x0.py', 'lol_residual.py'):
        assert expected_target == path.name[4:-3]  # the Table 4 ablation changes only this
    expected_steps = {'cifar10.py': 100, 'afhq_dog2cat.py': 50, 'celebahq_male2female.py': 50}
    assert model.schedule.T_acc == expected_steps.get(path.name, 5)  # T=12 linear -> 5 (DESIGN §1)
    x, inputs = _network_inputs(cfg, model)
    with torch.no_grad():
        out = model.network(x, torch.tensor([1]), inputs)
    assert out.shape == (1, 3, 16, 16)


def test_lol_config_has_the_papers_settings():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol.py'))
    assert cfg.model.backbone.dim == 64 and cfg.model.backbone.in_channels == 6
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0 and cfg.optim_wrapper.optimizer.amsgrad
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1.1e-4)
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=32)
    assert cfg.train_dataloader.batch_size * 8 == 32
    cosine = cfg.param_scheduler[0]
    assert cosine.type == 'CosineAnnealingLR'
    assert cfg.optim_wrapper.optimizer.lr * cosine.eta_min_ratio == pytest.approx(3e-5)
    crop = cfg.train_dataloader.dataset.pipeline[1].transforms[0]
    assert (crop.height, crop.width) == (256, 256)
    assert cfg.train_cfg.max_epochs == 5000


def test_demo_config_datasets_build():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'demo.py'))
    with DefaultScope.overwrite_default_scope('rf'):  # as the runner does: pipelines use rf's
        train = DATASETS.build(cfg.train_dataloader.dataset)
        test = DATASETS.build(cfg.test_dataloader.dataset)
    names = lambda ds: {ds.get_data_info(i)['img_id'] for i in range(len(ds))}  # noqa: E731
    assert names(train) and names(test) and not names(train) & names(test), 'scenes must differ'
    sample = train[0]
    assert sample['inputs']['degraded'].shape == sample['data_samples'].gt.shape == (3, 64, 64)
    first, again = test[0], test[0]
    assert torch.equal(first['inputs']['degraded'], again['inputs']['degraded'])


def _write_png(path, rng, size=(100, 120)):
    import cv2
    import numpy as np
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rng.integers(0, 256, (*size, 3), dtype=np.uint8))


@pytest.mark.parametrize('name', ['lol_cpu.py', 'polyu_cpu.py'])
def test_cpu_recipes_split_their_data_and_crop(tmp_path, name):
    """Both CPU recipes on their official layouts, generated: disjoint train/held-out pairs,
    96-pixel training crops, full-size held-out images."""
    import numpy as np
    rng = np.random.default_rng(0)
    for i in range(20):
        if name == 'lol_cpu.py':
            for side in ('low', 'high'):
                _write_png(tmp_path / 'our485' / side / f'{i}.png', rng)
        else:
            for kind in ('real', 'mean'):
                _write_png(tmp_path / 'train' / f'cam_{i}_{kind}.JPG', rng)
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / name))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    cfg.val_dataloader.dataset.data_root = str(tmp_path)
    with DefaultScope.overwrite_default_scope('rf'):
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.val_dataloader.dataset)
    ids = lambda ds: {ds.get_data_info(i)['img_id'] for i in range(len(ds))}  # noqa: E731
    assert ids(train).isdisjoint(ids(val)) and len(ids(train) | ids(val)) == 20
    assert len(val) == -(-20 // cfg.hold_out_every)
    assert train[0]['inputs']['degraded'].shape == (3, 96, 96)
    assert val[0]['inputs']['degraded'].shape == (3, 100, 120)
    assert cfg.train_cfg.max_iters * cfg.train_dataloader.batch_size >= 3000
