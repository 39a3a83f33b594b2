# Runtime shared by every rf experiment: the CPU/GPU distributed wrapper, seeding, logging level
# and visualizer. The hooks (default_hooks, custom_hooks) and log_processor are the schedule's:
# they live in the schedule fragment (_base_/schedules/*.py), or in the leaf config for a
# config with its own schedule (demo.py, cifar10.py), because MMEngine refuses a key defined by
# two bases. Every schedule lists the same runtime hooks (timer, param_scheduler, sampler_seed,
# cuda_settings); tests/configs/test_configs.py keeps them equal.
default_scope = 'rf'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# device_ids=None on CPU-only machines (gloo); MMEngine's default elsewhere. The scope prefix is
# needed: MMEngine looks the wrapper up with get(), which does not follow the default scope.
model_wrapper_cfg = dict(type='rf.RfDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)

# diff_rank_seed: rank r is seeded with seed + r, so with N processes the diffusion steps t, the
# noise and the dropout of a batch are N independent draws, not one draw repeated N times (the
# samplers still share one shuffling seed). RNGStateHook gives each rank its own state on resume.
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
log_level = 'INFO'
# TensorBoard logs when the tensorboard package is installed (WORK_DIR/<run>/vis_data).
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                                  dict(type='OptionalTensorboardVisBackend')])
load_from = None
resume = False
