"""Discovers, loads and isolates rf plugins; records what each one registered.

Each plugin is loaded on its own, in a stage (:mod:`rf.plugins.staging`): what it registers, at
import time or in its ``rf_register_modules`` hook, is held in scratch registries and checked
before any name reaches the real ones. One that fails to import, to validate against the hook
specs, or to register (a name clash, an exception in its hook) gives an :class:`RfPluginWarning`
that names it and leaves no name behind; the other plugins still load.

This module does not import :mod:`rf.registry`: the registry module hands itself to
:func:`bind` when it is imported, and the process-wide loader works on what it was given.
"""
import importlib.metadata
import os
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

import pluggy
from mmengine.registry import Registry

from rf.plugins import hookspecs
from rf.plugins.staging import StagedRegistry

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


def _staged_registries(namespace) -> Dict[str, StagedRegistry]:
    """The namespace's registries that stage a plugin's names (rf's own; MMEngine's root
    registries, which rf's are children of, are not written to by plugins)."""
    return {name: reg for name, reg in _registries_of(namespace).items()
            if isinstance(reg, StagedRegistry)}


FIRST_PARTY_DISTRIBUTION = 'rf'


class PluginLoader:
    """Loads plugins into a namespace of registries (a module or object whose attributes are
    :class:`StagedRegistry` objects, as :mod:`rf.registry`)."""

    def __init__(self, registry_namespace, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self.namespace = registry_namespace
        self.pm = pluggy.PluginManager('rf')
        self.pm.add_hookspecs(hookspecs)
        self.plugins: Dict[str, PluginInfo] = {}
        self._active = False
        self._autoloaded = False

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

    def autoload(self) -> None:
        """Load every installed plugin once, unless ``RF_DISABLE_PLUGIN_AUTOLOAD`` is set."""
        if self._autoloaded or autoload_disabled():
            return
        self._autoloaded = True  # before loading: a plugin that searches a registry must not recurse
        self.load_entry_points()

    def load_entry_points(self, only: Optional[Iterable[str]] = None) -> List[PluginInfo]:
        """Load every discovered plugin (or those named in ``only``) not tried yet.

        A plugin that failed is not retried; it stays in :attr:`plugins` with its ``error``.
        """
        if self._active:
            # A plugin's import or hook searched a registry while we load: the outer call
            # finishes the job; a nested one would load plugins inside another's stage.
            return []
        if only is None:
            self._autoloaded = True  # a full load: nothing left for the lazy path to do
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
                self._load(ep.load, info)
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
        self._load(lambda: plugin, info)
        if info.error:
            raise RuntimeError(f'rf plugin {name!r} could not be registered: {info.error}')
        return info

    def _import_core_locations(self) -> None:
        # Core modules first, so that a plugin clashing with a core name is the one refused
        # (and so that no core module is first imported inside a plugin's stage).
        for registry in _registries_of(self.namespace).values():
            Registry.import_from_location(registry)

    def _load(self, load, info: PluginInfo) -> None:
        """Import (``load()``), validate and register one plugin inside a stage; publish its
        names only when every step succeeded."""
        registries = _staged_registries(self.namespace)
        for registry in registries.values():
            registry.open_stage()
        stage, plugin = 'import', None
        try:
            plugin = load()
            stage = 'validate'
            self.pm.register(plugin, name=info.name)
            self.pm.check_pending()
            stage = 'register its modules'
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            self.pm.subset_hook_caller('rf_register_modules', remove_plugins=others)(
                registry=self.namespace)
            for registry in registries.values():
                registry.check_stage()
        except Exception as exc:  # noqa: BLE001 - isolate every failure to its plugin
            for registry in registries.values():
                registry.discard_stage()
            if plugin is not None and self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._fail(info, stage, exc)
            return
        for name, registry in registries.items():
            published = registry.publish_stage()
            if published:
                info.registered[name] = sorted(published)
        self.plugins[info.name] = info

    def _fail(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        info.error = f'{type(exc).__name__}: {exc}'
        origin = f'{info.distribution} {info.version}, ' if info.distribution else ''
        warnings.warn(
            f"rf plugin {info.name!r} ({origin}{info.module}) failed to {stage} and is skipped: "
            f"{info.error}", RfPluginWarning, stacklevel=3)
        self.plugins.setdefault(info.name, info)


_loader: Optional[PluginLoader] = None


def _dist_name(ep) -> Optional[str]:
    dist = getattr(ep, 'dist', None)
    return dist.metadata['Name'] if dist else None


def bind(registry_namespace) -> PluginLoader:
    """Make the process-wide loader, for ``registry_namespace`` (:mod:`rf.registry` calls this
    with itself when it is imported)."""
    global _loader
    _loader = PluginLoader(registry_namespace)
    return _loader


def get_loader() -> PluginLoader:
    """The process-wide loader (see :func:`bind`)."""
    if _loader is None:
        raise RuntimeError('No plugin loader yet: import rf.registry first (it binds one).')
    return _loader


def autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, '').strip().lower() not in ('', '0', 'false', 'no')
