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
from rf.plugins.hookspecs import hookimpl, hookspec
from rf.plugins.manager import (AUTOLOAD_ENV, ENTRY_POINT_GROUP, PluginInfo, RfPluginWarning,
                                load_plugins, loaded_plugins, register_plugin)

__all__ = [
    'hookimpl', 'hookspec', 'load_plugins', 'loaded_plugins', 'register_plugin', 'PluginInfo',
    'RfPluginWarning', 'ENTRY_POINT_GROUP', 'AUTOLOAD_ENV',
]
