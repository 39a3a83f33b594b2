"""First-party plugin: the ``generation`` task, with its pipeline step and grid hook.

Registered: the task ``type='generation'`` (:class:`GenerationTask`), the transform
:class:`PackGenerationInputs` (the pipeline's last step for image datasets used for generation)
and the hook :class:`SampleGridHook` (one picture of many samples).
"""
from rf.plugins import hookimpl
from rf_plugins.tasks.generation.grid_hook import SampleGridHook
from rf_plugins.tasks.generation.task import GenerationTask, PackGenerationInputs

__all__ = ['GenerationTask', 'PackGenerationInputs', 'SampleGridHook']


@hookimpl
def rf_register_modules(registry):
    registry.TASKS.register_module(name='generation', module=GenerationTask)
    registry.TRANSFORMS.register_module(module=PackGenerationInputs)
    registry.HOOKS.register_module(module=SampleGridHook)
