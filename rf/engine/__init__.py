"""Engine glue between rf and MMEngine: safe checkpoint loading, RNG state, CPU distributed.

Importing this package installs the safe checkpoint loader (see :mod:`rf.engine.safe_loading`);
``rf.registry`` lists it among the locations of MODELS, HOOKS and MODEL_WRAPPERS, so any runner
that builds an rf model has it.
"""
from rf.engine.distributed import RfDistributedDataParallel, init_cpu_distributed
from rf.engine.rng_state_hook import RNGStateHook
from rf.engine.safe_loading import install_safe_checkpoint_loader
from rf.engine.save_images_hook import SaveRestoredImagesHook

install_safe_checkpoint_loader()

__all__ = ['RfDistributedDataParallel', 'init_cpu_distributed', 'RNGStateHook',
           'install_safe_checkpoint_loader', 'SaveRestoredImagesHook']
