# Image-to-image translation with Resfusion (DESIGN §1): AFHQ-v2 dog -> cat at 64x64, 50 sampling
# steps. x̂0 is a dog, x0 a cat drawn at random (a new pairing every epoch), and the network sees
# x_t alone (no condition: the RDDM U-Net gets 3 input channels). Linear T=134 is the T whose
# acceleration point is T'=50 with the truncated schedule (√ᾱ_T' = 0.5 exactly; T=135..137 also
# give 50, untruncated): python tools/print_schedule.py --T 134.
# Otherwise the paper's settings (DESIGN §3): AdamW at lr 1.1e-4 for a batch of 32 (scaled
# linearly with the total batch), cosine decay to 3e-5, gradient clipping at 1.0, and the
# generation recipe's moving average of the weights (decay 0.9999). 500 epochs of the ~4.7k AFHQ
# train dogs at batch 32 are about 75k iterations, as long as the paper's LOL run.
#   python tools/train.py configs/afhq_dog2cat.py --cfg-options \
#       train_dataloader.dataset.data_root=/data/afhq val_dataloader.dataset.data_root=/data/afhq
#   (FID's Inception weights: fetched to the torch hub cache, docs/pretrained_weights.md)
#   python tools/test.py configs/afhq_dog2cat.py work_dirs/afhq_dog2cat/best_FID_epoch_500.pth \
#       --out-dir translated \
#       --cfg-options test_dataloader.dataset.data_root=/data/afhq
# tools/test.py reports FID (the translated val dogs against the val cats); --out-dir writes the
# translations and source | translation | a random target-domain image grids.
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/unpaired_domains_64.py']

data_root = 'data/afhq'
domains = dict(source='dog', target='cat')
max_epochs = 500
val_interval = 50
base_lr = 1.1e-4

model = dict(
    schedule=dict(type='linear', T=134, offset_threshold=0.01),
    backbone=dict(in_channels=3),  # x_t only: the concat fuser gets no condition
    task=dict(type='translation'),
    # Stochastic sampling, seeded; the batch goes through the network at once (all images are
    # 64x64, so nothing is padded), each image with its own noise.
    sampler=dict(seed=0, batch_invariant=False),
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
# SetDatasetEpochHook re-pairs the domains every epoch; the EMA weights are validated, tested
# and saved as the checkpoint's state_dict; grids of 4 val translations at each validation.
custom_hooks = [
    dict(type='RNGStateHook'), dict(type='PlotCurvesHook', metric='FID'),
    dict(type='SetDatasetEpochHook'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4),
    dict(type='SaveRestoredImagesHook', phase='val', max_images=4),
]
