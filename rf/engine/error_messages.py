"""One clear line for user-caused errors: unknown registry types, missing config keys, bad input.

A command-line tool wraps its ``main`` with :func:`run_cli`: an error the user can fix (a typo in a
``type``, a config without ``train_dataloader``, an unreadable image) is printed as one
``error: ...`` line and exit code 1; anything else is a bug and keeps its traceback.
"""
import builtins
import difflib
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type

__all__ = [
    'UnknownTypeError', 'ConfigKeyError', 'explain_unknown_type', 'require_keys',
    'unknown_override_keys', 'one_line_error', 'run_cli',
]

_MISSING = object()
_SHOWN_NAMES = 10

# MMEngine's build_from_cfg: "{type} is not in the {scope}::{name} registry. Please check ...";
# build_runner_from_cfg leaves out "{scope}::". The name may contain spaces ("data sampler").
_UNKNOWN_TYPE = re.compile(
    r"(?P<type>[^\s'\"`]+) is not in the (?:(?P<scope>[\w.-]+)::)?(?P<name>[^:'\"`]+?) registry\.")
_TYPE_IN_ADVICE = re.compile(r'the value of `(?P<type>[^`]+)` is correct')
# Older MMEngine/MMCV re-raise a constructor's failure as "class `Outer` in module: <message>".
_NESTING = re.compile(r'class `(?P<cls>[^`]+)` in [\w.<>]+: ')
# torch.utils.data re-raises a worker's exception as "Caught X in DataLoader worker process N.
# \nOriginal Traceback (most recent call last):\n<traceback>".
_WORKER = re.compile(r'^Caught (?P<cls>\w+) (?P<where>in [^\n]*?)\.\nOriginal Traceback[^\n]*\n',
                     re.DOTALL)
_EXCEPTION_LINE = re.compile(r'^(?P<cls>[A-Za-z_][\w.]*)(?:: (?P<msg>.*))?$', re.DOTALL)


class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry knows; the message says which names are close."""

    def __str__(self) -> str:
        return _plain_key_error_str(self)


class ConfigKeyError(KeyError):
    """A config lacks keys a command needs: ``keys`` lists them (dotted), ``config_path`` names
    the file."""

    def __init__(self, message: str, keys: Sequence[str] = (), config_path: str = '') -> None:
        super().__init__(message)
        self.keys = list(keys)
        self.config_path = config_path

    def __str__(self) -> str:
        return _plain_key_error_str(self)


def _plain_key_error_str(exc: KeyError) -> str:
    # KeyError.__str__ quotes its argument (it is meant to be a dict key); ours is a sentence.
    return str(exc.args[0]) if len(exc.args) == 1 else super(KeyError, exc).__str__()


def _message(exc: BaseException) -> str:
    """The exception's text without KeyError's quotes."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)


# ----------------------------------------------------------------------------- unknown types


def _registry_family() -> List[Any]:
    """rf's registries and their MMEngine parents (every registry an rf config can reach)."""
    from rf.registry import ALL_REGISTRIES
    family = []
    for registry in ALL_REGISTRIES.values():
        while registry is not None:
            if all(registry is not known for known in family):
                family.append(registry)
            registry = registry.parent
    return family


def _find_registry(scope: Optional[str], name: str):
    matches = [r for r in _registry_family() if r.name == name]
    for registry in matches:
        if scope is None or registry.scope == scope:
            return registry
    return matches[0] if matches else None


def _names_of(registry) -> List[str]:
    try:  # rf's registries load their modules and the plugins lazily: list them all
        registry.import_from_location()
    except Exception:  # noqa: BLE001 - an error message must not fail on a broken plugin
        pass
    return list(registry.module_dict)


def _candidates(registry, key_scope: Optional[str]) -> Dict[str, str]:
    """``{name to suggest: bare name}`` for every name that a lookup in ``registry`` can reach.

    Its own and its ancestors' names resolve bare; a child registry's names need their scope
    (``rf.Resfusion`` from MMEngine's root registry).
    """
    prefix = f'{key_scope}.' if key_scope else ''
    found: Dict[str, str] = {}
    ancestor = registry
    while ancestor is not None:
        for name in _names_of(ancestor):
            found.setdefault(prefix + name, name)
        ancestor = ancestor.parent
    for child in list(registry.children.values()):
        for name in _names_of(child):
            found.setdefault(f'{child.scope}.{name}', name)
    return found


def _closest(word: str, candidates: Dict[str, str], n: int = 5) -> List[str]:
    """Case-insensitive close matches of ``word`` among the bare names of ``candidates``."""
    by_lower: Dict[str, List[str]] = {}
    for shown, bare in candidates.items():
        by_lower.setdefault(bare.lower(), []).append(shown)
    # An exact match (only the case differs) scores 1.0 and comes first.
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    return [shown for lower in matches for shown in by_lower[lower]][:n]


def _plugin_summary() -> str:
    from rf.plugins.manager import AUTOLOAD_ENV, autoload_disabled, loaded_plugins
    plugins = loaded_plugins()
    loaded = [p.name for p in plugins if p.loaded]
    failed = [f'{p.name} ({p.error})' for p in plugins if not p.loaded]
    text = f"Plugins loaded: {', '.join(loaded) if loaded else 'none'}"
    if failed:
        text += f"; failed to load: {'; '.join(failed)}"
    if autoload_disabled() and not plugins:
        text += f' (plugin autoload is disabled by {AUTOLOAD_ENV})'
    return text + '.'


def explain_unknown_type(exc: BaseException) -> Optional[str]:
    """A clear message for MMEngine's "X is not in the SCOPE::NAME registry" error, else None.

    Names the registry, the closest registered names (of that registry, its MMEngine parents and
    children) and the plugins loaded, so a typo or a plugin that failed to load is obvious.
    """
    text = _message(exc)
    found = _UNKNOWN_TYPE.search(text)
    if found is None:
        return None
    advice = _TYPE_IN_ADVICE.search(text, found.end())
    obj_type = advice.group('type') if advice else found.group('type')
    scope, name = found.group('scope'), found.group('name')
    key_scope, bare_type = None, obj_type
    if '.' in obj_type:  # "rf.Resfusion": MMEngine looks it up in the registry of scope "rf"
        head, tail = obj_type.split('.', 1)
        if any(r.scope == head for r in _registry_family()):
            key_scope, bare_type = head, tail

    where = f'{scope}::{name}' if scope else name
    parts = [f'unknown {name} type {obj_type!r} (registry {where})']
    nesting = _NESTING.findall(text[:found.start()])
    if nesting:
        parts[0] += ' while building ' + ' > '.join(f'class `{cls}`' for cls in nesting)
    registry = _find_registry(key_scope or scope, name)
    if registry is not None:
        candidates = _candidates(registry, key_scope)
        close = _closest(bare_type, candidates)
        scoped = [c for c in close if candidates[c] == bare_type and '.' in c and not key_scope]
        if scoped:
            # The right name looked up in the wrong scope (no default_scope, e.g. MMEngine's
            # Compose building an rf pipeline outside a runner).
            child_scope = scoped[0].split('.', 1)[0]
            parts.append(f"It is registered as {scoped[0]}: set default_scope = "
                         f"'{child_scope}' in the config or write type='{scoped[0]}'")
        elif close:
            parts.append(f"Closest registered names: {', '.join(close)}")
        else:
            names = sorted(candidates, key=str.lower)
            shown = ', '.join(names[:_SHOWN_NAMES])
            more = f' and {len(names) - _SHOWN_NAMES} more' if len(names) > _SHOWN_NAMES else ''
            parts.append(f'No registered name is close; {len(names)} registered: {shown}{more}'
                         if names else 'Nothing is registered there')
    return '. '.join(parts) + '. ' + _plugin_summary()


# ----------------------------------------------------------------------------- config keys


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
        shown = ', '.join(siblings[:_SHOWN_NAMES]) + (' ...' if len(siblings) > _SHOWN_NAMES
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


# ----------------------------------------------------------------------------- CLI errors


def _expected_types() -> Tuple[Type[BaseException], ...]:
    # Imported here: both modules pull in heavier dependencies than this one needs.
    from rf.checkpoint import UnsafeCheckpointError
    from rf.datasets.image_io import ImageReadError
    return (UnknownTypeError, ConfigKeyError, ImageReadError, UnsafeCheckpointError,
            FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _is_user_error(cls: type) -> bool:
    return (isinstance(cls, type) and issubclass(cls, _expected_types())) or \
        getattr(cls, 'rf_user_error', False) is True


def _resolve_class(qualified: str) -> Optional[type]:
    """The exception class named on a traceback's last line, if its module is already imported."""
    module, _, name = qualified.rpartition('.')
    owner = sys.modules.get(module) if module else builtins
    cls = getattr(owner, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def _unwrap_worker(text: str) -> Optional[Tuple[str, str]]:
    """``(class name, message)`` of the original exception in a DataLoader-worker re-raise."""
    found = _WORKER.match(text)
    if found is None:
        return None
    lines = text[found.end():].rstrip('\n').split('\n')
    frames = [i for i, line in enumerate(lines) if line.startswith('  File ')]
    start = frames[-1] + 1 if frames else 0
    while start < len(lines) and (not lines[start] or lines[start][0].isspace()):
        start += 1  # the frame's source line and its ^^^^ markers
    exception = _EXCEPTION_LINE.match('\n'.join(lines[start:]))
    if exception is None:
        return found.group('cls'), text
    return exception.group('cls'), (exception.group('msg') or '').strip()


def _strip_key_quotes(cls: Optional[type], message: str) -> str:
    # A KeyError's traceback line shows repr() of its argument.
    if cls is not None and issubclass(cls, KeyError) and not issubclass(
            cls, (UnknownTypeError, ConfigKeyError)) and len(message) >= 2 \
            and message[0] == message[-1] and message[0] in '\'"':
        return message[1:-1]
    return message


def one_line_error(exc: BaseException) -> Optional[str]:
    """What a command-line tool prints for an expected, user-caused error; None for a bug.

    Expected: a registry's unknown type, :class:`ConfigKeyError`, ``ImageReadError``,
    ``UnsafeCheckpointError``, missing files and folders, and any class with
    ``rf_user_error = True``. A DataLoader worker's re-raise is judged by the original exception.
    """
    cls: Optional[type] = type(exc)
    message = _message(exc)
    wrapped = _unwrap_worker(message)
    if wrapped is not None:
        name, message = wrapped
        cls = _resolve_class(name) or (type(exc) if type(exc).__name__ == name.rpartition('.')[2]
                                       else None)
        message = _strip_key_quotes(cls, message)
    explained = explain_unknown_type(KeyError(message))
    if explained is not None:
        return explained
    if cls is None or not _is_user_error(cls):
        return None
    if wrapped is None and isinstance(exc, OSError) and exc.filename is not None:
        # "[Errno 2] No such file or directory: 'x'" -> "No such file or directory: x"
        target = os.fsdecode(exc.filename)
        return f'{exc.strerror or type(exc).__name__}: {target}'
    return message.strip() or cls.__name__


def run_cli(main: Callable[[], Any]) -> int:
    """Run ``main`` and return the process's exit code (``sys.exit(run_cli(main))``).

    A user-caused error prints ``error: <one line>`` to stderr and gives 1; Ctrl-C gives 130;
    a bug re-raises with its traceback; ``SystemExit`` passes through. An int that ``main``
    returns is the exit code; anything else is 0.
    """
    try:
        result = main()
    except KeyboardInterrupt:
        print('error: interrupted', file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug re-raises below
        text = one_line_error(exc)
        if text is None:
            raise
        print(f'error: {text}', file=sys.stderr)
        return 1
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
