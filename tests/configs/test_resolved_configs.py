"""Every experiment config, resolved (all _base_ fragments merged), equals the committed snapshot
tests/data/resolved_configs.json: a refactoring of the configs must not change what they say.

A deliberate change: regenerate the snapshot and commit it on its own, naming each changed key
and why, so that the diff shows exactly what changed:
    RF_UPDATE_CONFIG_SNAPSHOT=1 python -m pytest tests/configs/test_resolved_configs.py
"""
import json
import os

from mmengine.config import Config

from conftest import REPO_ROOT

SNAPSHOT = REPO_ROOT / 'tests' / 'data' / 'resolved_configs.json'
CONFIGS = sorted((REPO_ROOT / 'configs').glob('*.py'))


def canonical(value):
    """A JSON-able form: dicts with sorted string keys, tuples as lists, paths inside the
    repository relative to it."""
    if isinstance(value, dict):
        return {str(key): canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, str):
        return value.replace(str(REPO_ROOT) + os.sep, '')
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise TypeError(f'{type(value).__name__} in a config: {value!r}')


def resolve_all():
    return {path.name: canonical(Config.fromfile(str(path)).to_dict()) for path in CONFIGS}


def differences(old, new, prefix=''):
    """Dotted keys whose values differ (a missing key is a difference)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [key for name in sorted(old.keys() | new.keys())
                for key in differences(old.get(name, '<absent>'), new.get(name, '<absent>'),
                                       f'{prefix}{name}.')]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [key for i, (a, b) in enumerate(zip(old, new))
                for key in differences(a, b, f'{prefix}{i}.')]
    return [] if old == new else [f'{prefix[:-1]}: {old!r} -> {new!r}']


def test_resolved_configs_equal_the_snapshot():
    resolved = resolve_all()
    if os.environ.get('RF_UPDATE_CONFIG_SNAPSHOT') == '1':
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(resolved, indent=1, sort_keys=True, ensure_ascii=False)
                            + '\n', encoding='utf-8')
    expected = json.loads(SNAPSHOT.read_text(encoding='utf-8'))
    changed = differences(expected, resolved)
    assert not changed, ('resolved configs differ from tests/data/resolved_configs.json '
                         '(RF_UPDATE_CONFIG_SNAPSHOT=1 regenerates it):\n  ' + '\n  '.join(changed))
