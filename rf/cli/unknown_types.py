"""Unknown registry types explained: which registry was searched and which names are close.

MMEngine reports a typo in a config's ``type`` as a bare ``KeyError``; :func:`explain_unknown_type`
turns it into one sentence naming the registry, the closest names and the loaded plugins.
"""
import difflib
import re
from typing import Any, Dict, List, Optional

from rf.cli.user_errors import SHOWN_NAMES, error_text

# MMEngine's build_from_cfg: "{type} is not in the {scope}::{name} registry. Please check ...";
# build_runner_from_cfg leaves out "{scope}::". The name may contain spaces ("data sampler").
_UNKNOWN_TYPE = re.compile(
    r"(?P<type>[^\s'\"`]+) is not in the (?:(?P<scope>[\w.-]+)::)?(?P<name>[^:'\"`]+?) registry\.")
_TYPE_IN_ADVICE = re.compile(r'the value of `(?P<type>[^`]+)` is correct')
# Older MMEngine/MMCV re-raise a constructor's failure as "class `Outer` in module: <message>".
_NESTING = re.compile(r'class `(?P<cls>[^`]+)` in [\w.<>]+: ')



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
    from rf.plugins import loaded_plugins
    from rf.plugins.manager import AUTOLOAD_ENV, autoload_disabled
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
    text = error_text(exc)
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
            shown = ', '.join(names[:SHOWN_NAMES])
            more = f' and {len(names) - SHOWN_NAMES} more' if len(names) > SHOWN_NAMES else ''
            parts.append(f'No registered name is close; {len(names)} registered: {shown}{more}'
                         if names else 'Nothing is registered there')
    return '. '.join(parts) + '. ' + _plugin_summary()
