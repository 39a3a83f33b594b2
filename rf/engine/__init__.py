"""Engine glue between rf and MMEngine: safe checkpoint loading and saving, RNG state, CPU
distributed.

Importing this package installs the safe checkpoint loader (see :mod:`rf.engine.safe_loading`);
``rf.registry`` lists it among the locations of MODELS, HOOKS and MODEL_WRAPPERS, so any runner
that builds an rf model has it.
"""
from rf.engine.atomic_files import AtomicLocalBackend
from rf.engine.checkpoint_hook import CrashSafeCheckpointHook
from rf.engine.cuda_settings import CudaSettingsHook
from rf.engine.curves import PlotCurvesHook
from rf.engine.distributed import RfDistributedDataParallel, init_cpu_distributed
from rf.engine.nonfinite_guard import GuardedAmpOptimWrapper, GuardedOptimWrapper, NonFiniteLossError
from rf.engine.rng_state_hook import RNGStateHook
from rf.engine.safe_loading import install_safe_checkpoint_loader
from rf.engine.save_images_hook import SaveRestoredImagesHook
from rf.engine.tensorboard_backend import OptionalTensorboardVisBackend

install_safe_checkpoint_loader()

__all__ = ['AtomicLocalBackend', 'CrashSafeCheckpointHook', 'CudaSettingsHook', 'GuardedAmpOptimWrapper',
           'GuardedOptimWrapper', 'NonFiniteLossError', 'OptionalTensorboardVisBackend',
           'PlotCurvesHook', 'RfDistributedDataParallel', 'init_cpu_distributed', 'RNGStateHook',
           'install_safe_checkpoint_loader', 'SaveRestoredImagesHook']
