# Image-to-image translation with Resfusion (DESIGN §1): CelebA-HQ male -> female at 64x64, 50
# sampling steps, in the StarGAN v2 layout ({train,val}/{female,male}). x̂0 is a man, x0 a woman
# drawn at random (a new pairing every epoch), and the network sees x_t alone (no condition).
# Everything but the data and the length is configs/afhq_dog2cat.py: linear T=134 -> T'=50, the
# RDDM U-Net on 3 input channels, AdamW 1.1e-4 at batch 32, cosine to 3e-5, clip 1.0, EMA 0.9999.
# 240 epochs of the ~10k train men at batch 32 are about 75k iterations.
#   python tools/train.py configs/celebahq_male2female.py --cfg-options \
#       train_dataloader.dataset.data_root=/data/celeba_hq \
#       val_dataloader.dataset.data_root=/data/celeba_hq
#   (FID's Inception weights: fetched to the torch hub cache, docs/pretrained_weights.md)
#   python tools/test.py configs/celebahq_male2female.py \
#       work_dirs/celebahq_male2female/best_FID_epoch_240.pth \
#       --out-dir translated --cfg-options test_dataloader.dataset.data_root=/data/celeba_hq
# tools/test.py reports FID (the translated val men against the val women).
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/unpaired_domains_64.py']

data_root = 'data/celeba_hq'
domains = dict(source='male', target='female')
max_epochs = 240
val_interval = 20
base_lr = 1.1e-4

model = dict(
    schedule=dict(type='linear', T=134, offset_threshold=0.01),
    backbone=dict(in_channels=3),  # x_t only: the concat fuser gets no condition
    task=dict(type='translation'),
    sampler=dict(seed=0, batch_invariant=False),  # 64x64 batches: no padding; noise per image
)

train_dataloader = dict(dataset=dict(data_root=data_root, **domains))
val_dataloader = dict(dataset=dict(data_root=data_root, **domains))
test_dataloader = val_dataloader

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=val_interval)
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
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=val_interval, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='FID', rule='less'),
)
log_processor = dict(by_epoch=True)
custom_hooks = [
    dict(type='RNGStateHook'), dict(type='PlotCurvesHook', metric='FID'),
    dict(type='SetDatasetEpochHook'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4),
    dict(type='SaveRestoredImagesHook', phase='val', max_images=4),
]
