"""rf's plugin loader, with fake third-party distributions (package + dist-info) in tmp_path.

Subprocesses test the real lazy process-wide path; in-process tests load into fresh registries.
"""
import importlib
import json
import os
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest

import rf
import rf.plugins
from rf.plugins import RfPluginWarning, hookimpl, manager
from rf.plugins.manager import AUTOLOAD_ENV, PluginLoader
from rf.plugins.staging import StagedRegistry

ROOT = Path(__file__).resolve().parents[3]
LIST_PLUGINS = str(ROOT / 'tools' / 'list_plugins.py')

GOOD = '''
import torch
from rf.plugins import hookimpl
class {cls}(torch.nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.proj = torch.nn.Linear(width, width)
@hookimpl
def rf_register_modules(registry):
    registry.MODELS.register_module(module={cls})
'''
BROKEN = "raise ImportError('needs libacme 2')\n"
HOOKED = '''
from rf.plugins import hookimpl
class {cls}: pass
@hookimpl
def {hook}(registry):
    {body}
'''
HALF = HOOKED.format(cls='HalfNet', hook='rf_register_modules', body='''\
registry.MODELS.register_module(module=HalfNet)
    raise RuntimeError('hook exploded after registering')''')
MISSPELT = HOOKED.format(cls='TypoNet', hook='rf_register_module',  # 's' missing
                         body='registry.MODELS.register_module(module=TypoNet)')


@pytest.fixture
def make_dist(tmp_path):
    """``make_dist(module, source, entry_name, folder='site')`` -> the folder to put on sys.path."""
    def make(module, source, entry_name, folder='site', version='0.1.0'):
        site, info = tmp_path / folder, tmp_path / folder / f'{module}-{version}.dist-info'
        (site / module).mkdir(parents=True)
        (site / module / '__init__.py').write_text(textwrap.dedent(source))
        info.mkdir()
        (info / 'METADATA').write_text(
            f'Metadata-Version: 2.1\nName: {module.replace("_", "-")}\nVersion: {version}\n')
        (info / 'entry_points.txt').write_text(f'[rf.plugins]\n{entry_name} = {module}\n')
        return site
    return make


@pytest.fixture
def on_path(monkeypatch):
    """Put a fake site folder on sys.path; forget its modules afterwards."""
    modules = []
    def use(site):
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        modules.extend(p.name for p in site.iterdir() if not p.name.endswith('.dist-info'))
    yield use
    for name in modules:
        sys.modules.pop(name, None)


def fresh_registries():
    return types.SimpleNamespace(MODELS=StagedRegistry('model', scope='rftest'),
                                 FUSERS=StagedRegistry('fuser', scope='rftest'))


def load_recording(loader, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        infos = loader.load_entry_points(**kwargs)
    return infos, [str(w.message) for w in caught if issubclass(w.category, RfPluginWarning)]


def run_python(args, site, disable=False):
    env = {k: v for k, v in os.environ.items() if k != AUTOLOAD_ENV}
    env.update(PYTHONPATH=str(site), **({AUTOLOAD_ENV: '1'} if disable else {}))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def last_json(proc):
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# Subprocesses: the real, lazy, process-wide path.
LAZY = '''
import json, sys, warnings
from rf.plugins import RfPluginWarning
warnings.simplefilter('error', RfPluginWarning)
from rf.registry import MODELS, FUSERS
imported_early = 'rf_acme_net' in sys.modules
m = MODELS.build(dict(type='AcmeNet', width=3))
import rf.plugins
print(json.dumps(dict(
    imported_early=imported_early, cls=f'{type(m).__module__}.{type(m).__name__}',
    in_features=m.proj.in_features, unet=MODELS.get('ResfusionUNet').__module__,
    concat=FUSERS.build(dict(type='concat')).__class__.__name__,
    plugins={p.name: p.registered for p in rf.plugins.loaded_plugins()})))
'''


@pytest.mark.slow
def test_lazy_autoload_builds_third_party_and_first_party(make_dist):
    site = make_dist('rf_acme_net', GOOD.format(cls='AcmeNet'), 'acme')
    out = last_json(run_python(['-c', LAZY], site))
    assert out['imported_early'] is False  # importing rf.registry imports no plugin
    assert out['cls'] == 'rf_acme_net.AcmeNet' and out['in_features'] == 3
    assert out['unet'].startswith('rf_plugins.backbones.resfusion_unet')
    assert out['concat'] == 'ConcatFuser'
    assert out['plugins'].items() >= {'acme': {'MODELS': ['AcmeNet']}, 'concat_fuser': {
        'FUSERS': ['concat']}, 'resfusion_unet': {'MODELS': ['ResfusionUNet']}}.items()


FAILURES = '''
import json, sys, warnings
sys.path.append(sys.argv[1])  # the clashing plugin is found after rf's own
from rf.plugins import RfPluginWarning
from rf.registry import MODELS
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    acme = MODELS.get('AcmeNet')
import rf.plugins
print(json.dumps(dict(
    warnings=[str(w.message) for w in caught if issubclass(w.category, RfPluginWarning)],
    acme=acme.__module__, half=MODELS.get('HalfNet'), unet=MODELS.get('ResfusionUNet').__module__,
    errors={p.name: p.error for p in rf.plugins.loaded_plugins()})))
'''


@pytest.mark.slow
def test_failing_plugins_are_isolated_and_listed(make_dist):
    make_dist('rf_acme_net', GOOD.format(cls='AcmeNet'), 'acme')
    make_dist('rf_broken', BROKEN, 'broken')
    site = make_dist('rf_half', HALF, 'half')
    late = make_dist('rf_clash', GOOD.format(cls='ResfusionUNet'), 'clash', folder='late')
    out = last_json(run_python(['-c', FAILURES, str(late)], site))
    assert len(out['warnings']) == 3, out['warnings']
    for name, dist, why in [('broken', 'rf-broken 0.1.0', 'ImportError: needs libacme 2'),
                            ('half', 'rf-half 0.1.0', 'RuntimeError: hook exploded'),
                            ('clash', 'rf-clash 0.1.0', 'ResfusionUNet is already registered')]:
        [msg] = [m for m in out['warnings'] if f"rf plugin '{name}' ({dist}" in m]
        assert why in msg and why in out['errors'][name]
    assert out['acme'] == 'rf_acme_net' and out['half'] is None  # HalfNet rolled back
    assert out['unet'].startswith('rf_plugins.')
    assert out['errors']['acme'] is None and out['errors']['resfusion_unet'] is None

    proc = run_python([LIST_PLUGINS], site)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for block in ['acme  [rf-acme-net 0.1.0]  rf_acme_net\n    MODELS: AcmeNet\n',
                  'broken  [rf-broken 0.1.0]  rf_broken\n'
                  '    FAILED: ImportError: needs libacme 2\n',
                  'half  [rf-half 0.1.0]  rf_half\n    FAILED: RuntimeError: hook exploded after '
                  'registering\n',
                  f'[rf {rf.__version__}]  rf_plugins.backbones.resfusion_unet\n'
                  '    MODELS: ResfusionUNet\n']:
        assert block in proc.stdout, proc.stdout
    assert 'HalfNet' not in proc.stdout


DISABLED = '''
import json, sys
from rf.registry import MODELS
import rf.plugins
out = dict(acme_before=MODELS.get('AcmeNet'), unet_before=MODELS.get('ResfusionUNet'),
           imported='rf_acme_net' in sys.modules)
out['loaded'] = [[i.name, i.distribution, i.registered] for i in rf.plugins.load_plugins(['acme'])]
out.update(built=type(MODELS.build(dict(type='AcmeNet'))).__name__,
           unet_after=MODELS.get('ResfusionUNet'))
try:
    rf.plugins.load_plugins(only=['nope'])
except KeyError as exc:
    out['keyerror'] = str(exc)
print(json.dumps(out))
'''


@pytest.mark.slow
def test_disable_autoload_then_load_explicitly(make_dist):
    site = make_dist('rf_acme_net', GOOD.format(cls='AcmeNet'), 'acme')
    out = last_json(run_python(['-c', DISABLED], site, disable=True))
    assert out['acme_before'] is None and out['unet_before'] is None and not out['imported']
    assert out['loaded'] == [['acme', 'rf-acme-net', {'MODELS': ['AcmeNet']}]]
    assert out['built'] == 'AcmeNet' and out['unet_after'] is None  # only= loads just 'acme'
    for part in ("['nope']", 'installed: ', 'acme', 'concat_fuser', 'resfusion_unet'):
        assert part in out['keyerror']


@pytest.mark.slow
def test_list_plugins_json(make_dist):
    site = make_dist('rf_acme_net', GOOD.format(cls='AcmeNet'), 'acme')
    proc = run_python([LIST_PLUGINS, '--json'], site, disable=True)  # lists even when disabled
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_name = {p['name']: p for p in json.loads(proc.stdout)}
    for name, module, dist, version, registered in [
            ('resfusion_unet', 'rf_plugins.backbones.resfusion_unet', 'rf', rf.__version__,
             {'MODELS': ['ResfusionUNet']}),
            ('concat_fuser', 'rf_plugins.fusers.concat', 'rf', rf.__version__,
             {'FUSERS': ['concat']}),
            ('acme', 'rf_acme_net', 'rf-acme-net', '0.1.0', {'MODELS': ['AcmeNet']})]:
        assert by_name[name] == dict(name=name, module=module, distribution=dist, version=version,
                                     registered=registered, error=None, loaded=True)


POLITE = HOOKED.format(cls='PoliteNet', hook='rf_register_modules', body='''\
if 'PoliteNet' not in registry.MODELS:  # searching a registry while being loaded
        registry.MODELS.register_module(module=PoliteNet)''')
EXPLICIT = '''
import json, warnings
import rf.plugins
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    rf.plugins.load_plugins()
print(json.dumps(dict(
    warnings=[str(w.message) for w in caught if 'rf plugin' in str(w.message)],
    polite=[p.registered for p in rf.plugins.loaded_plugins() if p.name == 'polite'])))
'''


@pytest.mark.slow
def test_plugin_that_searches_a_registry_loads_once(make_dist):
    out = last_json(run_python(['-c', EXPLICIT], make_dist('rf_polite', POLITE, 'polite')))
    assert out == dict(warnings=[], polite=[{'MODELS': ['PoliteNet']}])


# In process: a PluginLoader bound to fresh registries.
def test_loader_isolates_each_plugin(make_dist, on_path):
    make_dist('rf_t1_good', GOOD.format(cls='GoodNet'), 'good1')
    make_dist('rf_t1_broken', BROKEN, 'broken1')
    make_dist('rf_t1_typo', MISSPELT, 'typo1')
    on_path(make_dist('rf_t1_half', HALF, 'half1'))
    loader = PluginLoader(registry_namespace=(ns := fresh_registries()))
    names = ['good1', 'broken1', 'typo1', 'half1']
    infos, caught = load_recording(loader, only=names)
    assert sorted(i.name for i in infos) == sorted(names)
    assert set(ns.MODELS.module_dict) == {'GoodNet'}  # HalfNet rolled back, TypoNet never ran
    assert ns.MODELS.build(dict(type='GoodNet', width=2)).proj.out_features == 2
    good = loader.plugins['good1']
    assert (good.distribution, good.version, good.registered) == ('rf-t1-good', '0.1.0',
                                                                  {'MODELS': ['GoodNet']})
    assert len(caught) == 3 and loader.pm.has_plugin('good1')
    for name, dist, stage, why in [
            ('broken1', 'rf-t1-broken', 'import', 'ImportError: needs libacme 2'),
            ('typo1', 'rf-t1-typo', 'validate', "unknown hook 'rf_register_module'"),
            ('half1', 'rf-t1-half', 'register its modules', 'RuntimeError: hook exploded')]:
        [msg] = [m for m in caught if f"rf plugin '{name}' ({dist} 0.1.0" in m]
        assert f'failed to {stage}' in msg and why in msg
        assert not loader.plugins[name].loaded and why in loader.plugins[name].error
        assert loader.plugins[name].registered == {}
        assert not loader.pm.has_plugin(name)  # a failed plugin's hook is never called again
    # Nothing is retried: no second registration (which would clash) and no second warning.
    assert load_recording(loader, only=names) == ([], [])


def test_register_in_process_plugin(monkeypatch):
    loader = PluginLoader(registry_namespace=(ns := fresh_registries()))
    monkeypatch.setattr(manager, '_loader', loader)  # rf.plugins.register_plugin uses it

    InProcNet, Other = type('InProcNet', (), {}), type('Other', (), {})

    class InProc:
        @hookimpl
        def rf_register_modules(self, registry):
            registry.FUSERS.register_module(module=InProcNet)

    info = rf.plugins.register_plugin(InProc(), name='inproc')
    assert (info.name, info.distribution, info.registered) == ('inproc', None,
                                                               {'FUSERS': ['InProcNet']})
    assert ns.FUSERS.get('InProcNet') is InProcNet and rf.plugins.loaded_plugins() == [info]

    @hookimpl
    def rf_register_modules(registry):
        registry.MODELS.register_module(module=Other)
        registry.FUSERS.register_module(name='InProcNet', module=Other)
    module = types.ModuleType('rf_t2_clashy')
    module.rf_register_modules = rf_register_modules
    with pytest.warns(RfPluginWarning, match="'rf_t2_clashy'"), \
            pytest.raises(RuntimeError, match="'rf_t2_clashy'.*already registered"):
        rf.plugins.register_plugin(module)  # named after the module
    assert 'Other' not in ns.MODELS.module_dict and ns.FUSERS.get('InProcNet') is InProcNet
    assert not loader.pm.has_plugin('rf_t2_clashy')


AT_IMPORT = '''
from rf_t4_ns import MODELS
@MODELS.register_module()
class ImportTimeNet: pass
raise ImportError('needs libacme 2')
'''
OVERWRITE = HOOKED.format(cls='Impostor', hook='rf_register_modules', body='''\
registry.MODELS.register_module(name='Existing', module=Impostor, force=True)
    raise RuntimeError('hook exploded after registering')''')
# clash: a third-party plugin found before rf on sys.path still loses a clash with rf's own.
# import: names registered at import time by a plugin that then fails are rolled back.
# force: names overwritten with force=True by a plugin that then fails are restored.
@pytest.mark.parametrize('kind,source', [
    ('clash', GOOD.format(cls='ResfusionUNet')), ('import', AT_IMPORT), ('force', OVERWRITE)])
def test_failing_plugin_never_changes_what_others_registered(make_dist, on_path, monkeypatch,
                                                             kind, source):
    from rf_plugins.backbones.resfusion_unet import ResfusionUNet
    ns, Existing = fresh_registries(), type('Existing', (), {})
    ns.MODELS.register_module(module=Existing)
    monkeypatch.setitem(sys.modules, 'rf_t4_ns', ns)
    on_path(make_dist(f'rf_t4_{kind}', source, f'{kind}4'))  # first on sys.path
    loader = PluginLoader(registry_namespace=ns)
    _, caught = load_recording(loader, only=[f'{kind}4', 'resfusion_unet'])
    assert len(caught) == 1 and f"'{kind}4'" in caught[0]
    assert not loader.plugins[f'{kind}4'].loaded and loader.plugins['resfusion_unet'].loaded
    assert dict(ns.MODELS.module_dict) == {'Existing': Existing, 'ResfusionUNet': ResfusionUNet}
