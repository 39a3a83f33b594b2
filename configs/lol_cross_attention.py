# Resfusion on LOL-v1 with the cross_attention fuser (DESIGN §1): x_t alone enters the paper's
# U-Net (in_channels=3); a small conv encoder, trained with the model, turns the degraded image
# into context tokens at 1/8 of its size, and cross-attention blocks in the U-Net's middle and
# deepest level attend to them. Everything else is configs/lol.py: resnoise target, T=12 -> 5
# steps, 256 patches, AdamW 1.1e-4 at batch 32, cosine to 3e-5, clip 1.0, 5000 epochs.
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py', '_base_/datasets/lol.py']

context_dim = 256  # the fuser's token width; the backbone must be built with the same
model = dict(
    backbone=dict(in_channels=3, context_dim=context_dim, context_levels=(-1,)),
    fuser=dict(_delete_=True, type='cross_attention', context_dim=context_dim, cond_channels=3,
               dim=32, downsample=3),
)

max_epochs = 5000
base_lr = 1.1e-4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The authors' optimizer: AdamW with amsgrad and no weight decay (train_resfusion_restore.py).
optim_wrapper = dict(type='GuardedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.0, amsgrad=True),
                     clip_grad=dict(max_norm=1.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
                        T_max=max_epochs, eta_min_ratio=3e-5 / base_lr,
                        convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='PSNR', rule='greater'),
)
log_processor = dict(by_epoch=True)
