"""rf's registries: MMEngine ``Registry`` children under scope ``rf``.

Every registry here is a :class:`PluginRegistry`: the first time one is searched (``get``/``build``)
it imports its ``locations`` like any MMEngine registry and also loads every plugin of the
``rf.plugins`` entry-point group (see :mod:`rf.plugins`). So ``MODELS.build(dict(type='AcmeNet'))``
works with no import by the user once the package that provides ``AcmeNet`` is installed.

A plugin's ``rf_register_modules(registry)`` hook receives this module: the module hands itself
to the plugin loader when it is imported (:func:`rf.plugins.manager.bind`), so the loader never
imports it. Registrations made while a plugin loads are staged (:class:`StagedRegistry`) and reach
these registries only once the whole plugin is valid.
"""
import sys

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS

from rf.plugins import manager as plugin_manager
from rf.plugins.staging import StagedRegistry

__all__ = [
    'PluginRegistry', 'MODELS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'METRICS', 'EVALUATOR',
    'HOOKS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'PARAM_SCHEDULERS', 'MODEL_WRAPPERS', 'VISUALIZERS',
    'VISBACKENDS', 'LOOPS', 'LOG_PROCESSORS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'RUNNERS', 'FUNCTIONS',
    'WEIGHT_INITIALIZERS',
    'NOISE_SCHEDULES', 'FUSERS', 'TASKS', 'EVAL_PROTOCOLS', 'ALL_REGISTRIES',
]


class PluginRegistry(StagedRegistry):
    """A ``Registry`` that loads rf's plugins the first time it is searched."""

    def import_from_location(self) -> None:
        super().import_from_location()
        PLUGIN_LOADER.autoload()


# MMEngine's own kinds of module, scoped to rf.
MODELS = PluginRegistry('model', parent=MMENGINE_MODELS, scope='rf',
                        locations=['rf.models', 'rf.engine'])
DATASETS = PluginRegistry('dataset', parent=MMENGINE_DATASETS, scope='rf',
                          locations=['rf.datasets'])
DATA_SAMPLERS = PluginRegistry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='rf')
TRANSFORMS = PluginRegistry('transform', parent=MMENGINE_TRANSFORMS, scope='rf',
                            locations=['rf.datasets'])
METRICS = PluginRegistry('metric', parent=MMENGINE_METRICS, scope='rf', locations=['rf.metrics'])
EVALUATOR = PluginRegistry('evaluator', parent=MMENGINE_EVALUATOR, scope='rf')
HOOKS = PluginRegistry('hook', parent=MMENGINE_HOOKS, scope='rf', locations=['rf.engine'])
OPTIMIZERS = PluginRegistry('optimizer', parent=MMENGINE_OPTIMIZERS, scope='rf')
OPTIM_WRAPPERS = PluginRegistry('optim wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='rf',
                                locations=['rf.engine'])
PARAM_SCHEDULERS = PluginRegistry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, scope='rf')
MODEL_WRAPPERS = PluginRegistry('model wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='rf',
                                locations=['rf.engine'])
VISUALIZERS = PluginRegistry('visualizer', parent=MMENGINE_VISUALIZERS, scope='rf')
VISBACKENDS = PluginRegistry('vis_backend', parent=MMENGINE_VISBACKENDS, scope='rf',
                             locations=['rf.engine'])
LOOPS = PluginRegistry('loop', parent=MMENGINE_LOOPS, scope='rf')
LOG_PROCESSORS = PluginRegistry('log_processor', parent=MMENGINE_LOG_PROCESSORS, scope='rf')
OPTIM_WRAPPER_CONSTRUCTORS = PluginRegistry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='rf')
RUNNERS = PluginRegistry('runner', parent=MMENGINE_RUNNERS, scope='rf')
FUNCTIONS = PluginRegistry('function', parent=MMENGINE_FUNCTIONS, scope='rf')
WEIGHT_INITIALIZERS = PluginRegistry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS,
                                     scope='rf')

# rf's own kinds of module.
NOISE_SCHEDULES = PluginRegistry(
    'noise schedule', scope='rf', locations=['rf.diffusion.schedules'])
"""Base beta schedules: functions ``f(T) -> float64 tensor of T betas``."""
FUSERS = PluginRegistry('fuser', scope='rf')
"""Conditioning fusers: modules that turn ``(x_t, condition, mask)`` into the network input."""
TASKS = PluginRegistry('task', scope='rf')
"""Tasks (restoration, generation, translation): how ``x̂0`` and the condition come from a sample."""
EVAL_PROTOCOLS = PluginRegistry('evaluation protocol', scope='rf',
                                locations=['rf.metrics.protocols'])
"""Evaluation protocols (``lol``, ``lol_256``, ``istd``, ...): one authors' script each, shared by
``tools/score.py`` and the ``ProtocolMetric`` of training and testing."""

ALL_REGISTRIES = {
    'MODELS': MODELS, 'DATASETS': DATASETS, 'DATA_SAMPLERS': DATA_SAMPLERS,
    'TRANSFORMS': TRANSFORMS, 'METRICS': METRICS, 'EVALUATOR': EVALUATOR, 'HOOKS': HOOKS,
    'OPTIMIZERS': OPTIMIZERS, 'OPTIM_WRAPPERS': OPTIM_WRAPPERS,
    'PARAM_SCHEDULERS': PARAM_SCHEDULERS, 'MODEL_WRAPPERS': MODEL_WRAPPERS,
    'VISUALIZERS': VISUALIZERS, 'VISBACKENDS': VISBACKENDS, 'LOOPS': LOOPS,
    'LOG_PROCESSORS': LOG_PROCESSORS, 'OPTIM_WRAPPER_CONSTRUCTORS': OPTIM_WRAPPER_CONSTRUCTORS,
    'RUNNERS': RUNNERS, 'FUNCTIONS': FUNCTIONS, 'WEIGHT_INITIALIZERS': WEIGHT_INITIALIZERS,
    'NOISE_SCHEDULES': NOISE_SCHEDULES, 'FUSERS': FUSERS,
    'TASKS': TASKS, 'EVAL_PROTOCOLS': EVAL_PROTOCOLS,
}

# The process-wide plugin loader, given this module's registries.
PLUGIN_LOADER = plugin_manager.bind(sys.modules[__name__])
