# The translation schedule (afhq_dog2cat.py, celebahq_male2female.py) with the paper's settings
# (docs/design.md §3.2): AdamW with amsgrad and no weight decay at lr 1.1e-4 for a batch of 32 (scaled
# linearly with the total batch by auto_scale_lr), cosine decay to 3e-5, gradient clipping at
# 1.0, and the generation recipe's moving average of the weights (decay 0.9999). Its length is
# AFHQ's: 500 epochs of the ~4.7k train dogs at batch 32, about 75k iterations (as long as the
# paper's LOL run), validated and checkpointed every 50 epochs; a config on another dataset
# sets max_epochs, val_interval, train_cfg, param_scheduler and the checkpoint interval.
max_epochs = 500
val_interval = 50
base_lr = 1.1e-4

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The authors' optimizer: AdamW with amsgrad and no weight decay (train_resfusion_restore.py).
# GuardedOptimWrapper: MMEngine's OptimWrapper that stops on a NaN/inf loss before the weights
# change.
optim_wrapper = dict(type='GuardedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.0, amsgrad=True),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
                        T_max=max_epochs, eta_min_ratio=3e-5 / base_lr,
                        convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

# The hooks: the best checkpoint by FID (lower is better). timer, param_scheduler, sampler_seed
# and cuda_settings are the runtime hooks of every schedule.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=val_interval, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='FID', rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
# SetDatasetEpochHook re-pairs the domains every epoch; the EMA weights are validated, tested
# and saved as the checkpoint's state_dict; grids of 4 val translations at each validation.
custom_hooks = [
    dict(type='RNGStateHook'), dict(type='PlotCurvesHook', metric='FID'),
    dict(type='SetDatasetEpochHook'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4),
    dict(type='SaveRestoredImagesHook', phase='val', max_images=4),
]
