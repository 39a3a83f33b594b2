# Resfusion on LOL-v1 with a timm encoder instead of the paper's U-Net: TimmUNet, a U-Net whose
# encoder is timm.create_model('convnext_tiny', features_only=True) and whose decoder takes the
# diffusion step (scale/shift in every block). Any timm architecture name works in `encoder`
# (resnet34, efficientnet_b3, ...; BatchNorm encoders need batches > 1). Everything else is
# configs/lol.py: concat fusion [x_t, x̂0], resnoise target, T=12 -> 5 steps, 256 patches, AdamW
# 1.1e-4 at batch 32, cosine to 3e-5, clip 1.0, 5000 epochs.
# ImageNet weights from a local file (never downloaded), e.g. timm's convnext_tiny
# pytorch_model.bin: --cfg-options model.backbone.encoder_weights=/path/to/convnext_tiny.bin
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py', '_base_/datasets/lol.py']

model = dict(backbone=dict(_delete_=True, type='TimmUNet', encoder='convnext_tiny',
                           in_channels=6, out_channels=3, dim=64, encoder_weights=None))

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
