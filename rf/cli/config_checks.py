"""Config keys checked before a command runs: required keys present, overrides that exist.

:func:`require_keys` names every missing key at once; :func:`unknown_override_keys` warns about a
``--cfg-options`` key the config does not have (a typo would otherwise add a key nobody reads).
"""
import difflib
from collections.abc import Mapping
from typing import List, Optional, Sequence

from rf.cli.user_errors import SHOWN_NAMES, ConfigKeyError

_MISSING = object()



def _as_mapping(obj) -> Optional[Mapping]:
    if isinstance(obj, Mapping):
        return obj
    # mmengine's Config is not a Mapping but wraps a ConfigDict.
    inner = getattr(obj, '_cfg_dict', None)
    return inner if isinstance(inner, Mapping) else None


def _step(node, part: str):
    """``node[part]``: a dict key, or a list index as MMEngine's ``merge_from_dict`` allows."""
    mapping = _as_mapping(node)
    if mapping is not None:
        return mapping[part] if part in mapping else _MISSING
    if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    return _MISSING


def _lookup(cfg, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        node = _step(node, part)
        if node is _MISSING:
            break
    return node


def require_keys(cfg, keys: Sequence[str], config_path: str, purpose: str) -> None:
    """Raise :class:`ConfigKeyError` naming every key of ``keys`` (dotted) that ``cfg`` lacks.

    A key set to None counts as missing: MMEngine reads None as "not configured".
    """
    missing = [key for key in keys if _lookup(cfg, key) in (_MISSING, None)]
    if not missing:
        return
    named = [f"'{key}'" + (' (it is None)' if _lookup(cfg, key) is None else '')
             for key in missing]
    listed = named[0] if len(named) == 1 else ', no '.join(named[:-1]) + ' and no ' + named[-1]
    raise ConfigKeyError(f'{config_path} has no {listed} (needed for {purpose})',
                         keys=missing, config_path=config_path)


def _keys_of(node) -> List[str]:
    mapping = _as_mapping(node)
    if mapping is not None:
        return [str(k) for k in mapping]
    if isinstance(node, (list, tuple)):
        return [str(i) for i in range(len(node))]
    return []


def _override_problem(cfg, key: str) -> Optional[str]:
    parts = key.split('.')
    node = cfg
    for depth, part in enumerate(parts):
        nxt = _step(node, part)
        if nxt is not _MISSING:
            node = nxt
            continue
        parent = '.'.join(parts[:depth])
        where = parent or 'the top level'
        if isinstance(node, (list, tuple)):
            return (f'--cfg-options {key}: {parent} is a list of {len(node)} item(s); '
                    f'{part!r} is not an index of it')
        siblings = _keys_of(node)
        if _as_mapping(node) is None:
            return (f'--cfg-options {key}: {parent} is not a dict (it is a value of type '
                    f'{type(node).__name__}); it has no key {part!r}')
        path = '.'.join(parts[:depth + 1])
        close = difflib.get_close_matches(part, siblings, n=1, cutoff=0.6)
        if not close:
            lower = {s.lower(): s for s in siblings}
            close = [lower[m] for m in difflib.get_close_matches(part.lower(), list(lower), n=1)]
        if close:
            suggestion = '.'.join(parts[:depth] + close + parts[depth + 1:])
            return (f'--cfg-options {key}: no such key {path!r} in the config; '
                    f'did you mean {suggestion}?')
        shown = ', '.join(siblings[:SHOWN_NAMES]) + (' ...' if len(siblings) > SHOWN_NAMES
                                                       else '')
        has = f'{where} has {shown}' if siblings else f'{where} is empty'
        return (f'--cfg-options {key}: no such key {path!r} in the config ({has}); '
                'the override adds it')
    return None


def unknown_override_keys(cfg, options: Mapping) -> List[str]:
    """One warning per ``--cfg-options`` key whose path is not in ``cfg`` (check before merging).

    Keys are dotted as MMEngine's ``DictAction`` gives them; a numeric part indexes a list.
    A new key is only warned about: a module accepting ``**kwargs`` may want it.
    """
    problems = (_override_problem(cfg, str(key)) for key in options)
    return [problem for problem in problems if problem]
