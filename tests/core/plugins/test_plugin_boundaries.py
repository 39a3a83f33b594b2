"""Plugins import only the core (``rf``), never each other, and the core never imports plugins.

A plugin unit is a module or a subpackage directly under ``plugins/<kind>/``. Its files may
import ``rf...``, third-party packages and modules of their own unit; a kind's ``__init__.py``
may import its own plugins. ``plugins/example_plugin`` is a separate distribution (its own tests).
"""
import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Optional, Tuple

import pytest

from conftest import REPO_ROOT

PLUGINS = REPO_ROOT / 'plugins'
EXCLUDED = ('example_plugin',)
TOP = 'rf_plugins'
CORE_PACKAGES = ('rf', 'rf.diffusion', 'rf.models', 'rf.nn', 'rf.datasets', 'rf.metrics')


def module_name(path: Path) -> Tuple[str, bool]:
    """(dotted module name under ``rf_plugins``, whether the file is a package's __init__)."""
    parts = path.relative_to(PLUGINS).with_suffix('').parts
    is_package = parts[-1] == '__init__'
    if is_package:
        parts = parts[:-1]
    return '.'.join((TOP, *parts)), is_package


def allowed_prefix(path: Path) -> Optional[str]:
    """The ``rf_plugins`` names the file may import: its plugin unit, or for a kind's
    ``__init__.py`` the kind's plugins; None for files that may import no plugin at all."""
    parts = path.relative_to(PLUGINS).parts
    if len(parts) == 1:  # plugins/__init__.py
        return None
    if len(parts) == 2 and parts[1] == '__init__.py':  # a kind's __init__.py
        return f'{TOP}.{parts[0]}'
    unit = parts[1][:-3] if len(parts) == 2 else parts[1]
    return f'{TOP}.{parts[0]}.{unit}'


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[Tuple[int, str]]:
    """(line, absolute dotted name) of every import in ``tree``, relative ones resolved; for
    ``from M import n`` the name is ``M.n`` (n may be a submodule)."""
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = '.'.join(anchor + ([base] if base else []))
            for alias in node.names:
                yield node.lineno, base if alias.name == '*' else f'{base}.{alias.name}'
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, 'attr', getattr(node.func, 'id', None))
              in ('import_module', '__import__')):
            yield node.lineno, node.args[0].value


def boundary_violations(path: Path, source: str) -> list:
    """'file:line imports name' for each import of a plugin outside ``path``'s own unit."""
    module, is_package = module_name(path)
    prefix = allowed_prefix(path)
    found = []
    for line, name in imported_names(ast.parse(source, str(path)), module, is_package):
        top = name.split('.')[0]
        if top == 'plugins':  # the folder's own name is not an import path either
            name = TOP + name[len('plugins'):]
        elif top != TOP:
            continue
        if prefix is None or not (name == prefix or name.startswith(prefix + '.')):
            found.append(f'{path.relative_to(REPO_ROOT)}:{line} imports {name}')
    return found


def plugin_files():
    return sorted(path for path in PLUGINS.rglob('*.py')
                  if path.relative_to(PLUGINS).parts[0] not in EXCLUDED)


def test_plugins_import_only_the_core_and_their_own_unit():
    files = plugin_files()
    assert PLUGINS / 'fusers' / 'cross_attention.py' in files  # the walk sees the plugins
    violations = [v for path in files for v in boundary_violations(path, path.read_text())]
    assert not violations, ('A plugin imports another plugin; move what they share into the '
                            'core (rf.nn for network blocks):\n' + '\n'.join(violations))


@pytest.mark.parametrize('relative, source, bad', [
    # what the plugins did before rf.nn existed
    ('fusers/cross_attention.py', 'from rf_plugins.fusers.concat import encode_shadow_mask', 1),
    ('backbones/timm_unet/network.py',
     'from rf_plugins.backbones.resfusion_unet.layers import SinusoidalPosEmb', 1),
    ('backbones/resfusion_unet/network.py', 'from ..unet_input import prepare_unet_input', 1),
    ('backbones/resfusion_unet/network.py', 'from rf_plugins.backbones import context_attention',
     1),
    ('tasks/generation.py', 'from rf_plugins.tasks.generation_grid import SampleGridHook', 1),
    ('tasks/translation.py', "importlib.import_module('rf_plugins.tasks.restoration')", 1),
    ('datasets/lol.py', 'import plugins.datasets.istd', 1),
    ('__init__.py', 'import rf_plugins.backbones', 1),
    # allowed: the core, third parties, the file's own unit, a kind's __init__ and its plugins
    ('backbones/resfusion_unet/network.py',
     'import torch\nfrom rf.nn import ContextAttention\nfrom .layers import ResnetBlock\n'
     'from rf_plugins.backbones.resfusion_unet.attention import Attention', 0),
    ('backbones/resfusion_unet/__init__.py', 'from . import network\nfrom .network import X', 0),
    ('tasks/generation/__init__.py', 'from rf_plugins.tasks.generation.task import GenerationTask',
     0),
    ('tasks/__init__.py', 'from rf_plugins.tasks import restoration', 0),
])
def test_the_check_tells_own_unit_from_another_plugin(relative, source, bad):
    assert len(boundary_violations(PLUGINS / relative, source)) == bad


CORE_IMPORT = '''
import importlib, json, sys
from pathlib import Path
for name in sys.argv[2:]:
    importlib.import_module(name)
plugins = Path(sys.argv[1]).resolve()
leaked = []
for name, module in sorted(sys.modules.items()):
    file = getattr(module, '__file__', None)
    if (name == 'rf_plugins' or name.startswith('rf_plugins.')
            or (file and Path(file).resolve().is_relative_to(plugins))):
        leaked.append(name)
print(json.dumps(leaked))
'''


@pytest.mark.slow
def test_the_core_imports_no_plugin():
    done = subprocess.run([sys.executable, '-c', CORE_IMPORT, str(PLUGINS), *CORE_PACKAGES],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    leaked = json.loads(done.stdout.strip().splitlines()[-1])
    assert leaked == [], f'importing {CORE_PACKAGES} loaded plugin modules: {leaked}'
