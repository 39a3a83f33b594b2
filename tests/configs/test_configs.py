"""Every experiment config loads, stays within one level of _base_, and builds its model; the
variants differ from their base config only where they say, and what the fragments must repeat
(the runtime hooks, the translation network) stays equal."""
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


def flat(value, prefix=''):
    """{dotted key: leaf value} of a resolved config."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return {prefix[:-1]: value}
    return {key: leaf for name, item in items for key, leaf in flat(item, f'{prefix}{name}.').items()}


def differing_keys(a, b):
    a, b = flat(a), flat(b)
    return {key for key in a.keys() | b.keys() if a.get(key, a) != b.get(key, b)}


def load(name):
    return Config.fromfile(str(REPO_ROOT / 'configs' / name)).to_dict()


# variant: (its base config, the keys it may change). A variant lists its base's _base_ files and
# states only its difference; anything else that differs is a copy gone stale.
VARIANTS = {
    'lol_x0.py': ('lol.py', ['model.target', 'model.sampler.clip_x0']),
    'lol_residual.py': ('lol.py', ['model.target', 'model.sampler.clip_x0']),
    'lol_cross_attention.py': ('lol.py', ['context_dim', 'model.backbone', 'model.fuser']),
    'lol_timm.py': ('lol.py', ['model.backbone']),
    'lolv2_real.py': ('lol.py', ['data_root'] + [f'{loader}.dataset.{key}' for key in
                                                 ('type', 'data_root') for loader in
                                                 ('train_dataloader', 'val_dataloader',
                                                  'test_dataloader')]),
    'celebahq_male2female.py': ('afhq_dog2cat.py', [
        'data_root', 'domains', 'train_dataloader.dataset', 'val_dataloader.dataset',
        'test_dataloader.dataset', 'max_epochs', 'val_interval', 'train_cfg.max_epochs',
        'train_cfg.val_interval', 'param_scheduler.0.end', 'param_scheduler.0.T_max',
        'default_hooks.checkpoint.interval']),
}


@pytest.mark.parametrize('variant', VARIANTS)
def test_variant_is_its_base_config_but_for_its_difference(variant):
    base, allowed = VARIANTS[variant]
    configs = REPO_ROOT / 'configs'
    assert base_files(configs / variant) == base_files(configs / base)
    changed = differing_keys(load(variant), load(base))
    assert changed, f'{variant} changes nothing'
    assert not {key for key in changed
                if not any(key == a or key.startswith(a + '.') for a in allowed)}


def test_every_config_has_the_runtime_hooks():
    """The hooks and log_processor live in the schedule fragments (or the leaf config with its own
    schedule): the runtime hooks they all list must stay equal."""
    runtime = ('timer', 'param_scheduler', 'sampler_seed', 'cuda_settings')
    resolved = {path.name: Config.fromfile(str(path)) for path in CONFIGS}
    hooks = {name: {key: cfg.default_hooks.get(key) for key in runtime}
             for name, cfg in resolved.items()}
    assert hooks['lol.py']['cuda_settings']['type'] == 'CudaSettingsHook'
    assert all(value == hooks['lol.py'] for value in hooks.values()), hooks
    for name, cfg in resolved.items():
        assert cfg.log_processor.type == 'LogProcessor' and cfg.log_processor.window_size == 50
        assert cfg.log_processor.by_epoch == (cfg.train_cfg.type == 'EpochBasedTrainLoop'), name
        assert cfg.custom_hooks[0] == dict(type='RNGStateHook'), name


def test_translation_network_is_the_papers_but_for_its_input():
    fragments = REPO_ROOT / 'configs' / '_base_' / 'models'
    paper = Config.fromfile(str(fragments / 'resfusion_unet.py')).to_dict()
    translation = Config.fromfile(str(fragments / 'resfusion_unet_translation.py')).to_dict()
    assert differing_keys(translation, paper) == {
        'model.schedule.T', 'model.backbone.in_channels', 'model.task.type',
        'model.sampler.batch_invariant'}


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
    assert model.schedule.T_acc == expected_steps.get(path.name, 5)  # T=12 linear -> 5 (docs/design.md §1.2)
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
