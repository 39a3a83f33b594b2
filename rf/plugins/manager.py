"""Discovers, loads and isolates rf plugins; records what each one registered.

Each plugin is loaded on its own: one that fails to import, to validate against the hook specs,
or to register (a name clash, an exception in its hook) gives an :class:`RfPluginWarning` that
names it, the names it had already registered are removed again, and the other plugins still load.
"""
import importlib.metadata
import os
import sys
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


def _snapshot(registries: Dict[str, Registry]) -> Dict[str, set]:
    return {name: set(reg.module_dict) for name, reg in registries.items()}


class PluginLoader:
    """Loads plugins into a namespace of registries (``rf.registry`` unless told otherwise)."""

    def __init__(self, registry_namespace: Optional[types.ModuleType] = None,
                 group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._namespace = registry_namespace
        self.pm = pluggy.PluginManager('rf')
        self.pm.add_hookspecs(hookspecs)
        self.plugins: Dict[str, PluginInfo] = {}

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
            dist = getattr(ep, 'dist', None)
            key = (ep.name, ep.value, dist.metadata['Name'] if dist else None)
            if key not in seen:
                seen.add(key)
                unique.append(ep)
        return unique

    def load_entry_points(self, only: Optional[Iterable[str]] = None) -> List[PluginInfo]:
        """Load every discovered plugin (or those named in ``only``) not tried yet.

        A plugin that failed is not retried; it stays in :attr:`plugins` with its ``error``.
        """
        self._import_core_locations()
        wanted = set(only) if only is not None else None
        infos = []
        for ep in self.discover():
            if (wanted is not None and ep.name not in wanted) or ep.name in self.plugins:
                continue
            dist = getattr(ep, 'dist', None)
            info = PluginInfo(name=ep.name, module=ep.value,
                              distribution=dist.metadata['Name'] if dist else None,
                              version=dist.version if dist else None)
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's
                self._fail(info, 'import', exc)
            else:
                self._register(plugin, info)
            infos.append(info)
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
        self._register(plugin, info)
        if info.error:
            raise RuntimeError(f'rf plugin {name!r} could not be registered: {info.error}')
        return info

    def _import_core_locations(self) -> None:
        # Core modules first, so that a plugin clashing with a core name is the one refused.
        for registry in _registries_of(self.namespace).values():
            Registry.import_from_location(registry)

    def _register(self, plugin, info: PluginInfo) -> None:
        registries = _registries_of(self.namespace)
        before = _snapshot(registries)
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
            self._rollback(registries, before)
            self._fail(info, stage, exc)
            return
        after = _snapshot(registries)
        info.registered = {name: sorted(after[name] - before[name])
                           for name in registries if after[name] - before[name]}
        self.plugins[info.name] = info

    @staticmethod
    def _rollback(registries: Dict[str, Registry], before: Dict[str, set]) -> None:
        for name, registry in registries.items():
            for key in set(registry.module_dict) - before[name]:
                # Registry has no public unregister; a half-registered plugin must not linger.
                registry._module_dict.pop(key, None)

    def _fail(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        info.error = f'{type(exc).__name__}: {exc}'
        origin = f'{info.distribution} {info.version}, ' if info.distribution else ''
        warnings.warn(
            f"rf plugin {info.name!r} ({origin}{info.module}) failed to {stage} and is skipped: "
            f"{info.error}", RfPluginWarning, stacklevel=3)
        self.plugins.setdefault(info.name, info)


_loader: Optional[PluginLoader] = None
_autoload_done = False


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
    return get_loader().load_entry_points(only)


def register_plugin(plugin, name: Optional[str] = None) -> PluginInfo:
    """Register an in-process plugin (a module or object with ``@hookimpl`` functions)."""
    return get_loader().register(plugin, name)


def loaded_plugins() -> List[PluginInfo]:
    """Every plugin seen so far, loaded or failed, in load order."""
    return list(get_loader().plugins.values())


if sys.version_info < (3, 10):  # pragma: no cover - entry_points(group=...) needs 3.10
    raise ImportError('rf needs Python >= 3.10')
