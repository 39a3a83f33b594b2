# The CPU-budget recipe shared by lol_cpu.py and polyu_cpu.py: at most 30 minutes of training on
# 2 cores. The paper's method is unchanged (resnoise target, linear T=12 truncated to 5 sampling
# steps); what shrinks is the network (set in the leaf config), the patches (96) and the
# schedule: 500 iterations of batch 8, warm-up then cosine at a high learning rate, and a
# moving average of the weights over about the last tenth of training (validated, tested and
# saved as the checkpoint's state_dict). Decoded images are cached in memory and
# loaded in the main process, so no loader worker competes with training for the 2 cores.
# The 30 minutes assume the glibc malloc settings that tools/train.py sets (README -> Speed).
max_iters = 500
patch_size = 96

train_pipeline = [
    dict(type='LoadRestorationImages', cache=True),
    dict(type='PairedAlbumentations', transforms=[
        dict(type='RandomCrop', height=patch_size, width=patch_size),
        dict(type='HorizontalFlip', p=0.5),
        dict(type='VerticalFlip', p=0.5),
    ]),
    dict(type='PackRestorationInputs'),
]
test_pipeline = [dict(type='LoadRestorationImages'), dict(type='PackRestorationInputs')]

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='GuardedOptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters,
         T_max=max_iters - 30, eta_min=1e-5),
]

# MMEngine's EMAHook. At step s the average takes max(0.01, 10 / (10 + s)) of the new weights:
# it follows the model early on and, whatever max_iters is, ends up weighting about the last
# tenth of training (weights ~ s^9).
ema_hook = dict(type='EMAHook', ema_type='MomentumAnnealingEMA', momentum=0.01, gamma=10)

val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
# The input's own scores (PSNR_input, SSIM_input) give the gain; Y at 256x256 as in the paper.
test_evaluator = [dict(type='PSNR'), dict(type='SSIM'), dict(type='PSNR', source='input'),
                  dict(type='SSIM', source='input'), dict(type='PSNR', channel='y', resize=256),
                  dict(type='SSIM', channel='y', resize=256)]

# Loader settings; the leaf config gives each loader its dataset.
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader

# The hooks: a log line every 20 iterations, checkpoints every 200 (the best by PSNR kept).
# timer, param_scheduler, sampler_seed and cuda_settings are the runtime hooks of every schedule.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=200, by_epoch=False,
                    max_keep_ckpts=2, save_last=True, save_best='PSNR', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# At each validation: grids (input | restored | ground truth) of 4 held-out images and the
# reverse process of 2, in WORK_DIR/val_pictures/iter_N (and TensorBoard).
custom_hooks = [
    dict(type='RNGStateHook'), dict(type='PlotCurvesHook'), ema_hook,
    dict(type='SaveRestoredImagesHook', phase='val', max_images=4, trajectory=2),
]
