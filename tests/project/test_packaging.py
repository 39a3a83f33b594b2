"""The package as pip sees it: setup.cfg's package list, entry points, CI and README commands."""
import configparser
import importlib

import pytest

from conftest import REPO_ROOT


@pytest.fixture(scope='module')
def setup_cfg():
    parser = configparser.ConfigParser()
    parser.read(REPO_ROOT / 'setup.cfg')
    return parser


def test_every_package_folder_is_listed(setup_cfg):
    listed = {line.strip() for line in setup_cfg['options']['packages'].splitlines() if line.strip()}
    on_disk = set()
    for top, name in (('rf', 'rf'), ('plugins', 'rf_plugins')):
        for init in (REPO_ROOT / top).rglob('__init__.py'):
            parts = init.parent.relative_to(REPO_ROOT / top).parts
            on_disk.add('.'.join((name, *parts)))
    assert listed == on_disk


def test_entry_points_import_and_implement_the_hook(setup_cfg):
    lines = [line for line in setup_cfg['options.entry_points']['rf.plugins'].splitlines() if line]
    assert len(lines) >= 2
    for line in lines:
        module = importlib.import_module(line.split('=', 1)[1].strip())
        assert callable(getattr(module, 'rf_register_modules'))


def test_ci_runs_exactly_the_readme_command():
    command = 'bash tools/run_tests.sh'
    assert command in (REPO_ROOT / '.ci' / 'run').read_text()
    assert command in (REPO_ROOT / 'README.md').read_text()
