# The embedded demo (tools/demo.sh): low-light enhancement of real photographs on a CPU in a few
# minutes. A small U-Net (dim 16) with the paper's method (resnoise target, T=12 -> 5 steps),
# iteration-based so that --cfg-options train_cfg.max_iters=N shortens or lengthens it.
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/skimage_lowlight.py']

max_iters = 300
model = dict(backbone=dict(dim=16))

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# GuardedOptimWrapper: MMEngine's OptimWrapper that stops on a NaN/inf loss before the weights
# change (on_nonfinite='skip' skips such steps instead).
optim_wrapper = dict(type='GuardedOptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, T_max=max_iters - 20,
         eta_min=1e-5),
]

# The hooks (timer, param_scheduler, sampler_seed and cuda_settings are the runtime hooks of every
# schedule): a log line every 20 iterations, one checkpoint at the end.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=max_iters, by_epoch=False,
                    max_keep_ckpts=1, save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# RNGStateHook makes --resume continue the random streams; PlotCurvesHook writes
# WORK_DIR/curves.png (loss, learning rate, validation PSNR) at the end.
custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook')]
