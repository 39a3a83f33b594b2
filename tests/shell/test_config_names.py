"""Configs are found by name (the ones shipped with rf) as well as by path."""
import os

import pytest

from rf.cli.config_names import SHIPPED_DIR, resolve_config, shipped_configs

from conftest import REPO_ROOT


def test_the_shipped_configs_are_the_repositorys():
    assert SHIPPED_DIR.resolve() == (REPO_ROOT / 'configs').resolve()  # a link in a checkout
    assert {'demo', 'lol', 'istd', 'raindrop', 'cifar10'} <= set(shipped_configs())
    assert not any(name.startswith('_') for name in shipped_configs())


@pytest.mark.parametrize('name', ['lol', 'lol.py', 'configs/lol.py'])
def test_a_name_resolves_from_any_directory(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here
    path = resolve_config(name)
    assert os.path.samefile(path, REPO_ROOT / 'configs' / 'lol.py')


def test_an_existing_path_wins(tmp_path):
    mine = tmp_path / 'lol.py'
    mine.write_text("_base_ = []\n")
    assert resolve_config(str(mine)) == str(mine)


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r'Config file not found: loll .*demo, .*lol,'):
        resolve_config('loll')
    with pytest.raises(SystemExit, match='not found: elsewhere/lol.py'):
        resolve_config('elsewhere/lol.py')  # a path that is not there is not a name
