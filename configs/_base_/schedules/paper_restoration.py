# The paper's restoration schedule (docs/design.md §3.2; the authors' train_resfusion_restore.py), shared by
# the LOL, LOL-v2, ISTD and Raindrop configs: 5000 epochs; AdamW with amsgrad and no weight decay
# at lr 1.1e-4 for a total batch of 32 (scaled linearly with the total batch by auto_scale_lr);
# cosine decay to 3e-5; gradient clipping at 1.0. Model selection as in the authors' scripts:
# validation every 10 epochs, the checkpoint with the best RGB PSNR at original size kept
# (PSNR@rgb, default_hooks below). The authors validate on the test split, which inflates the
# numbers; `tools/train.py CONFIG --select-on val-split` selects on pairs held out of the
# training data instead (README "Scoring results as the paper does").
max_epochs = 5000
base_lr = 1.1e-4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# GuardedOptimWrapper: MMEngine's OptimWrapper that stops on a NaN/inf loss before the weights
# change (on_nonfinite='skip' skips such steps instead).
optim_wrapper = dict(type='GuardedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.0, amsgrad=True),
                     clip_grad=dict(max_norm=1.0))
# Cosine from lr to 3e-5; the floor is a ratio so that it scales with the learning rate.
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
                        T_max=max_epochs, eta_min_ratio=3e-5 / base_lr,
                        convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

# The hooks. CrashSafeCheckpointHook is MMEngine's CheckpointHook with atomic writes (a killed run
# keeps every complete checkpoint and a valid last_checkpoint); the best checkpoint by PSNR@rgb.
# timer, param_scheduler, sampler_seed and cuda_settings are the runtime hooks of every schedule.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='PSNR@rgb', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
# RNGStateHook makes --resume continue the random streams; PlotCurvesHook writes
# WORK_DIR/curves.png (loss, learning rate, validation PSNR) at the end.
custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook')]
