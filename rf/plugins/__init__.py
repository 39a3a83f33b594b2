"""rf's plugin system: pluggy hooks discovered through the ``rf.plugins`` entry-point group.

A third party writes, in its package (say ``rf_acme_net``)::

    from rf.plugins import hookimpl

    @hookimpl
    def rf_register_modules(registry):
        registry.MODELS.register_module(module=AcmeNet)

and one line in its ``setup.cfg``::

    [options.entry_points]
    rf.plugins = acme = rf_acme_net

After ``pip install``, ``MODELS.build(dict(type='AcmeNet'))`` works with no import: plugins are
loaded the first time any rf registry is searched. Set ``RF_DISABLE_PLUGIN_AUTOLOAD=1`` to turn that
off and call :func:`load_plugins` (optionally with ``only=[...]``) or :func:`register_plugin` yourself.
rf's own backbones, fusers, datasets and tasks (``plugins/`` in the repository) load the same way.
"""
from typing import Iterable, List, Optional

from rf.plugins.hookspecs import hookimpl, hookspec
from rf.plugins.manager import AUTOLOAD_ENV, ENTRY_POINT_GROUP, PluginInfo, RfPluginWarning, get_loader

__all__ = [
    'hookimpl', 'hookspec', 'load_plugins', 'loaded_plugins', 'register_plugin', 'PluginInfo',
    'RfPluginWarning', 'ENTRY_POINT_GROUP', 'AUTOLOAD_ENV',
]


def _process_loader():
    import rf.registry  # noqa: F401 - importing it binds the loader to rf's registries
    return get_loader()


def load_plugins(only: Optional[Iterable[str]] = None) -> List[PluginInfo]:
    """Load installed plugins now, whatever ``RF_DISABLE_PLUGIN_AUTOLOAD`` says."""
    return _process_loader().load_entry_points(only)


def register_plugin(plugin, name: Optional[str] = None) -> PluginInfo:
    """Register an in-process plugin (a module or object with ``@hookimpl`` functions)."""
    return _process_loader().register(plugin, name)


def loaded_plugins() -> List[PluginInfo]:
    """Every plugin seen so far, loaded or failed, in load order."""
    return list(_process_loader().plugins.values())
