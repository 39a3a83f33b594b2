# Resfusion on Raindrop removal with the paper's settings (DESIGN §3): 256 patches with random
# crop and flip, AdamW at lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by
# auto_scale_lr), cosine decay to 3e-5, gradient clipping at 1.0, T=12 linear -> 5 steps,
# 5000 epochs (the authors' scripts: AdamW with amsgrad, weight decay 0). Scored on Y at original
# size (cut to multiples of 16) and at 256x256.
#   tools/dist_train.sh configs/raindrop.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/Raindrop \
#       val_dataloader.dataset.data_root=/data/Raindrop
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/raindrop.py']

max_epochs = 5000
base_lr = 1.1e-4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(type='GuardedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.0, amsgrad=True),
                     clip_grad=dict(max_norm=1.0))
# Cosine from lr to 3e-5; the floor is a ratio so that it scales with the learning rate.
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
                        T_max=max_epochs, eta_min_ratio=3e-5 / base_lr,
                        convert_to_iter_based=True)]
auto_scale_lr = dict(enable=True, base_batch_size=32)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='PSNR_Y', rule='greater'),
)
custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook', metric='PSNR_Y')]
log_processor = dict(by_epoch=True)
