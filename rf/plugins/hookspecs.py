"""The hooks an rf plugin may implement (pluggy project name ``rf``)."""
import pluggy

hookspec = pluggy.HookspecMarker('rf')
hookimpl = pluggy.HookimplMarker('rf')


@hookspec
def rf_register_modules(registry):
    """Register the plugin's modules into rf's registries.

    Args:
        registry: the :mod:`rf.registry` module: ``registry.MODELS``, ``registry.DATASETS``,
            ``registry.TRANSFORMS``, ``registry.METRICS``, ``registry.FUSERS``, ``registry.TASKS``,
            ``registry.NOISE_SCHEDULES``, ... Register with ``registry.MODELS.register_module(
            module=AcmeNet)``; configs then use ``type='AcmeNet'``.
    """
