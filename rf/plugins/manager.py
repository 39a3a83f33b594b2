"""Discovers, loads and isolates rf plugins; records what each one registered.

Each plugin is loaded on its own: one that fails to import, to validate against the hook specs,
or to register (a name clash, an exception in its hook) gives an :class:`RfPluginWarning` that
names it, the names it had already registered are removed again, and the other plugins still load.
"""
import importlib.metadata
import os
import types
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

import pluggy
from mmengine.registry import Registry

from rf.plugins import hookspecs

ENTRY_POINT_GROUP = 'rf.plugins'
AUTOLOAD_ENV = 'RF_DISABLE_PLUGIN_AUTOLOAD'


class RfPluginWarning(UserWarning):
    """A plugin could not be loaded; the others were."""


@dataclass
class PluginInfo:
    """One plugin: where it came from and what it registered (``{registry: [names]}``)."""

    name: str
    module: str
    distribution: Optional[str] = None
    version: Optional[str] = None
    registered: Dict[str, List[str]] = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def loaded(self) -> bool:
        return self.error is None


def _registries_of(namespace) -> Dict[str, Registry]:
    return {name: obj for name, obj in vars(namespace).items() if isinstance(obj, Registry)}


def _snapshot(registries: Dict[str, Registry]) -> Dict[str, Dict[str, object]]:
    """``{registry: {name: object}}``: enough to see additions and overwrites, and undo them."""
    return {name: dict(reg.module_dict) for name, reg in registries.items()}


def _changes(before: Dict[str, object], after: Dict[str, object]) -> List[str]:
    return sorted(key for key, obj in after.items() if before.get(key, _MISSING) is not obj)


_MISSING = object()
FIRST_PARTY_DISTRIBUTION = 'rf'


class PluginLoader:
    """Loads plugins into a namespace of registries (``rf.registry`` unless told otherwise)."""

    def __init__(self, registry_namespace: Optional[types.ModuleType] = None,
                 group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._namespace = registry_namespace
        self.pm = pluggy.PluginManager('rf')
        self.pm.add_hookspecs(hookspecs)
        self.plugins: Dict[str, PluginInfo] = {}
        self._active = False

    @property
    def namespace(self):
        if self._namespace is None:
            import rf.registry
            self._namespace = rf.registry
        return self._namespace

    def discover(self) -> List[importlib.metadata.EntryPoint]:
        """The group's entry points, once each (a path listed twice is not a second plugin)."""
        seen, unique = set(), []
        for ep in importlib.metadata.entry_points(group=self.group):
            key = (ep.name, ep.value, _dist_name(ep))
            if key not in seen:
                seen.add(key)
                unique.append(ep)
        # rf's own plugins first, then the rest in a stable order: when two plugins claim one
        # name, the first-party one keeps it, whatever the order of sys.path.
        return sorted(unique, key=lambda ep: (_dist_name(ep) != FIRST_PARTY_DISTRIBUTION,
                                              _dist_name(ep) or '', ep.name))

    def load_entry_points(self, only: Optional[Iterable[str]] = None) -> List[PluginInfo]:
        """Load every discovered plugin (or those named in ``only``) not tried yet.

        A plugin that failed is not retried; it stays in :attr:`plugins` with its ``error``.
        """
        if self._active:
            # A plugin's import or hook searched a registry while we load: the outer call
            # finishes the job; a nested one would load plugins inside another's snapshot.
            return []
        wanted = ({only} if isinstance(only, str) else set(only)) if only is not None else None
        infos = []
        self._active = True
        try:
            self._import_core_locations()
            for ep in self.discover():
                if (wanted is not None and ep.name not in wanted) or ep.name in self.plugins:
                    continue
                dist = getattr(ep, 'dist', None)
                info = PluginInfo(name=ep.name, module=ep.value, distribution=_dist_name(ep),
                                  version=dist.version if dist else None)
                # Before the import: plugins often register with decorators at import time.
                before = _snapshot(_registries_of(self.namespace))
                try:
                    plugin = ep.load()
                except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's
                    self._rollback(before)
                    self._fail(info, 'import', exc)
                else:
                    self._register(plugin, info, before)
                infos.append(info)
        finally:
            self._active = False
        if wanted:
            missing = wanted - set(self.plugins)
            if missing:
                known = ', '.join(sorted(ep.name for ep in self.discover())) or 'none'
                raise KeyError(f'No rf plugin named {sorted(missing)} in entry-point group '
                               f'{self.group!r}; installed: {known}.')
        return infos

    def register(self, plugin, name: Optional[str] = None) -> PluginInfo:
        """Register an object or module implementing rf hooks (an in-process plugin)."""
        name = name or getattr(plugin, '__name__', None) or repr(plugin)
        module = getattr(plugin, '__name__', type(plugin).__module__)
        info = PluginInfo(name=name, module=module)
        self._register(plugin, info, _snapshot(_registries_of(self.namespace)))
        if info.error:
            raise RuntimeError(f'rf plugin {name!r} could not be registered: {info.error}')
        return info

    def _import_core_locations(self) -> None:
        # Core modules first, so that a plugin clashing with a core name is the one refused.
        for registry in _registries_of(self.namespace).values():
            Registry.import_from_location(registry)

    def _register(self, plugin, info: PluginInfo, before: Dict[str, Dict[str, object]]) -> None:
        registries = _registries_of(self.namespace)
        stage = 'validate'
        try:
            self.pm.register(plugin, name=info.name)
            self.pm.check_pending()
            stage = 'register its modules'
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            self.pm.subset_hook_caller('rf_register_modules', remove_plugins=others)(
                registry=self.namespace)
        except Exception as exc:  # noqa: BLE001 - isolate every failure to its plugin
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._rollback(before)
            self._fail(info, stage, exc)
            return
        after = _snapshot(registries)
        info.registered = {name: _changes(before.get(name, {}), after[name])
                           for name in registries if _changes(before.get(name, {}), after[name])}
        self.plugins[info.name] = info

    def _rollback(self, before: Dict[str, Dict[str, object]]) -> None:
        """Put every registry back as it was: drop additions, restore overwritten entries."""
        for name, registry in _registries_of(self.namespace).items():
            if name in before:
                # Registry has no public unregister; a half-registered plugin must not linger.
                registry._module_dict.clear()
                registry._module_dict.update(before[name])

    def _fail(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        info.error = f'{type(exc).__name__}: {exc}'
        origin = f'{info.distribution} {info.version}, ' if info.distribution else ''
        warnings.warn(
            f"rf plugin {info.name!r} ({origin}{info.module}) failed to {stage} and is skipped: "
            f"{info.error}", RfPluginWarning, stacklevel=3)
        self.plugins.setdefault(info.name, info)


_loader: Optional[PluginLoader] = None
_autoload_done = False


def _dist_name(ep) -> Optional[str]:
    dist = getattr(ep, 'dist', None)
    return dist.metadata['Name'] if dist else None


def get_loader() -> PluginLoader:
    """The process-wide loader bound to :mod:`rf.registry`."""
    global _loader
    if _loader is None:
        _loader = PluginLoader()
    return _loader


def autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, '').strip().lower() not in ('', '0', 'false', 'no')


def autoload_plugins() -> None:
    """Load every installed plugin once, unless ``RF_DISABLE_PLUGIN_AUTOLOAD`` is set."""
    global _autoload_done
    if _autoload_done or autoload_disabled():
        return
    _autoload_done = True  # before loading: a plugin that searches a registry must not recurse
    get_loader().load_entry_points()


def load_plugins(only: Optional[Iterable[str]] = None) -> List[PluginInfo]:
    """Load installed plugins now, whatever ``RF_DISABLE_PLUGIN_AUTOLOAD`` says."""
    global _autoload_done
    if only is None:
        _autoload_done = True  # a full load: nothing left for the lazy path to do
    return get_loader().load_entry_points(only)


def register_plugin(plugin, name: Optional[str] = None) -> PluginInfo:
    """Register an in-process plugin (a module or object with ``@hookimpl`` functions)."""
    return get_loader().register(plugin, name)


def loaded_plugins() -> List[PluginInfo]:
    """Every plugin seen so far, loaded or failed, in load order."""
    return list(get_loader().plugins.values())

