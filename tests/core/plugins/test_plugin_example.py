"""The third-party plugin example (plugins/example_plugin), checked without installing anything.

Its wheel is built (pip wheel, no install) and unpacked into a temporary folder: exactly what
``pip install`` would put in site-packages (the module and its ``*.dist-info`` with the
entry point). That folder goes on a temporary sys.path (or PYTHONPATH of a subprocess); rf then
finds the plugin through its real entry-point machinery. Every in-process test puts the plugin
system back as it found it.
"""
import contextlib
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement

import rf.plugins
import rf.registry
from rf.plugins import manager
from rf.registry import MODELS

from conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / 'plugins' / 'example_plugin'
SOURCE_ONLY = shutil.ignore_patterns('__pycache__', 'build', 'dist', '*.egg-info', '.pytest_cache')
ENTRY = ('example_backbone', 'rf_example_backbone')
LISTED = ('example_backbone  [rf-example-backbone 0.1.0]  rf_example_backbone\n'
          '    MODELS: CompactResNet\n')


def build_wheel(source, out_dir):
    """``pip wheel`` of a source tree (no dependencies, no index, no isolated build env)."""
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
         '--no-index', '-w', str(out_dir), str(source)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [wheel] = out_dir.glob('*.whl')
    return wheel


@pytest.fixture(scope='module')
def example(tmp_path_factory):
    """``(source copy, site folder)``: the example's wheel unpacked into the site folder."""
    if ENTRY[0] in {ep.name for ep in importlib.metadata.entry_points(
            group=manager.ENTRY_POINT_GROUP)}:
        pytest.skip('the example plugin is installed in this environment (pip uninstall '
                    'rf-example-backbone): these tests load it from a temporary folder instead')
    root = tmp_path_factory.mktemp('example_plugin')
    source = root / 'src'
    shutil.copytree(EXAMPLE, source, ignore=SOURCE_ONLY)  # builds write into the source tree
    wheel = build_wheel(source, root / 'wheel')
    site = root / 'site'
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return source, site


def subprocess_env(site):
    env = {k: v for k, v in os.environ.items() if k != manager.AUTOLOAD_ENV}
    env.update(PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    return env


@contextlib.contextmanager
def example_plugin_loaded(site):
    """The example loaded into rf's real registries, as an installed plugin; afterwards the
    registries, the process-wide loader, sys.path and sys.modules are as before."""
    rf.plugins.load_plugins()  # rf's own plugins first, so they stay loaded afterwards
    registries = rf.registry.ALL_REGISTRIES
    before = {name: dict(registry.module_dict) for name, registry in registries.items()}
    saved_path, saved_loader = list(sys.path), manager._loader
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    manager._loader = manager.PluginLoader(rf.registry)  # a fresh loader: the global one never sees it
    try:
        [info] = rf.plugins.load_plugins(only=['example_backbone'])
        yield info
    finally:
        manager._loader = saved_loader
        sys.path[:] = saved_path
        for name, registry in registries.items():
            registry._module_dict.clear()  # Registry has no public unregister
            registry._module_dict.update(before[name])
        sys.modules.pop('rf_example_backbone', None)
        importlib.invalidate_caches()


def readme_config(tmp_path):
    """configs/lol.py with the README's one-line backbone swap appended (section 5)."""
    readme = (EXAMPLE / 'README.md').read_text()
    [snippet] = [block for block in re.findall(r'```python\n(.*?)```', readme, re.S)
                 if "type='CompactResNet'" in block]
    text = (REPO_ROOT / 'configs' / 'lol.py').read_text()
    text = text.replace("'_base_/", f"'{REPO_ROOT / 'configs' / '_base_'}/")
    path = tmp_path / 'lol_compact.py'
    path.write_text(text + '\n' + snippet)
    return Config.fromfile(str(path))


@pytest.mark.slow
def test_wheel_holds_the_module_and_the_entry_point(example):
    _, site = example
    [info_dir] = site.glob('*.dist-info')
    dist = importlib.metadata.Distribution.at(info_dir)
    assert (dist.metadata['Name'], dist.version) == ('rf-example-backbone', '0.1.0')
    [entry] = dist.entry_points.select(group=manager.ENTRY_POINT_GROUP)
    assert (entry.name, entry.value) == ENTRY
    assert sorted(p.name for p in site.iterdir()) == [info_dir.name, 'rf_example_backbone.py']


@pytest.mark.slow
def test_example_backbone_trains_and_restores_inside_resfusion(example, tmp_path):
    _, site = example
    with example_plugin_loaded(site) as info:
        assert (info.name, info.distribution, info.version, info.registered, info.error) == (
            'example_backbone', 'rf-example-backbone', '0.1.0', {'MODELS': ['CompactResNet']},
            None)
        cfg = readme_config(tmp_path)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        assert type(model.backbone).__module__ == 'rf_example_backbone'
        assert type(model.backbone).__name__ == 'CompactResNet'

        g = torch.Generator().manual_seed(0)
        images = [torch.randint(0, 256, (3, 13, 10), dtype=torch.uint8, generator=g)
                  for _ in range(3)]
        batch = dict(inputs=dict(degraded=images[:2]),
                     data_samples=[BaseDataElement(gt=image) for image in images[1:]])
        data = model.data_preprocessor(batch, training=True)  # padded to 16x16
        loss = model(**data, mode='loss')['loss']
        loss.backward()
        assert torch.isfinite(loss)
        assert all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in model.backbone.stem.parameters())

        model.eval()
        first = model.test_step(batch)
        again = model.test_step(batch)  # configs/lol.py seeds the sampler
        for sample, repeat in zip(first, again):
            assert sample.pred_img.shape == (3, 13, 10)
            assert 0 <= sample.pred_img.min() and sample.pred_img.max() <= 1
            torch.testing.assert_close(sample.pred_img, repeat.pred_img, rtol=0, atol=0)


@pytest.mark.slow
def test_loading_the_example_leaves_no_trace(example):
    _, site = example
    loader = manager.get_loader()
    with example_plugin_loaded(site):
        assert MODELS.get('CompactResNet').__module__ == 'rf_example_backbone'
    assert MODELS.get('CompactResNet') is None
    assert 'rf_example_backbone' not in sys.modules and str(site) not in sys.path
    assert manager.get_loader() is loader and 'example_backbone' not in loader.plugins
    assert not loader.pm.has_plugin('example_backbone')
    assert ENTRY[0] not in {ep.name for ep in importlib.metadata.entry_points(
        group=manager.ENTRY_POINT_GROUP)}


@pytest.mark.slow
def test_list_plugins_shows_it(example):
    _, site = example
    result = subprocess.run([sys.executable, 'tools/list_plugins.py'], cwd=REPO_ROOT,
                            env=subprocess_env(site), capture_output=True, text=True, timeout=300)
    # The example's block: its distribution and what it registered, no FAILED line. (The exit
    # status speaks for every installed plugin, so it is not this test's business.)
    assert LISTED in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_its_own_tests_pass_as_its_readme_runs_them(example):
    source, site = example
    result = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider'],
                            cwd=source, env=subprocess_env(site), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert re.search(r'\b4 passed\b', result.stdout), result.stdout


@pytest.mark.slow
def test_rf_wheel_does_not_contain_the_example(tmp_path):
    """setup.cfg maps rf_plugins = plugins/, but lists its packages one by one: the example's
    folder (no __init__.py) is not one of them, so rf's wheel leaves it out."""
    source = tmp_path / 'rf'
    source.mkdir()
    for name in ('setup.cfg', 'pyproject.toml', 'README.md'):
        shutil.copy(REPO_ROOT / name, source / name)
    for folder in ('rf', 'plugins'):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=SOURCE_ONLY)
    with zipfile.ZipFile(build_wheel(source, tmp_path / 'wheel')) as archive:
        names = archive.namelist()
        [entry_points] = [n for n in names if n.endswith('.dist-info/entry_points.txt')]
        entry_points = archive.read(entry_points).decode()
    assert 'rf_plugins/backbones/resfusion_unet/network.py' in names  # the first-party plugins
    assert not [n for n in names if 'example' in n], names
    assert 'rf_example_backbone' not in entry_points and 'resfusion_unet' in entry_points
