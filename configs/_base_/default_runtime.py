# Runtime shared by every rf experiment: MMEngine hooks, logging, the CPU/GPU distributed
# wrapper and the RNG-state hook that makes --resume continue the random streams.
# CrashSafeCheckpointHook is MMEngine's CheckpointHook with atomic writes (a killed run keeps
# every complete checkpoint and a valid last_checkpoint).
default_scope = 'rf'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=1000, by_epoch=False,
                    max_keep_ckpts=3, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
# PlotCurvesHook writes WORK_DIR/curves.png (loss, learning rate, validation PSNR) at the end.
custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook')]

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
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
# TensorBoard logs when the tensorboard package is installed (WORK_DIR/<run>/vis_data).
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                                  dict(type='OptionalTensorboardVisBackend')])
load_from = None
resume = False
