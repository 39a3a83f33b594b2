# Resfusion on LOL-v2-real with the paper's settings (DESIGN §3), the recipe of configs/lol.py:
# RDDM U-Net (dim 64), T=12 linear -> 5 steps, 256 patches with random crop and flip, AdamW at
# lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by auto_scale_lr), cosine
# decay to 3e-5, gradient clipping at 1.0, 5000 epochs.
# Data: LOL-v2's Real_captured folder, {Train,Test}/{Low,Normal}, lowNNNNN.png <-> normalNNNNN.png
# (689 training and 100 test pairs).
#   tools/dist_train.sh configs/lolv2_real.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/LOL-v2/Real_captured \
#       val_dataloader.dataset.data_root=/data/LOL-v2/Real_captured
# Testing adds LPIPS (AlexNet), which needs local weight files (never downloaded):
#   RF_LPIPS_WEIGHTS=/weights/alex.pth:/weights/alexnet-owt-7be5be79.pth \
#   python tools/test.py configs/lolv2_real.py CKPT \
#       --cfg-options test_dataloader.dataset.data_root=/data/LOL-v2/Real_captured
# (or weights='...' in the LPIPS entries below; see rf/metrics/lpips.py for the accepted files).
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py']

data_root = 'data/LOL-v2/Real_captured'
patch_size = 256
max_epochs = 5000
base_lr = 1.1e-4

train_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='PairedAlbumentations', transforms=[
        dict(type='RandomCrop', height=patch_size, width=patch_size),
        dict(type='HorizontalFlip', p=0.5),
    ]),
    dict(type='PackRestorationInputs'),
]
test_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='PackRestorationInputs'),
]

train_dataloader = dict(
    batch_size=4,  # per GPU: 8 GPUs x 4 = the paper's 32
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='LOLv2RealDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='LOLv2RealDataset', data_root=data_root, split='test',
                 pipeline=test_pipeline),
)
test_dataloader = val_dataloader

# LOL protocols (DESIGN §3): RGB at original size and Y at 256x256. Validation needs no
# pretrained weights; testing adds LPIPS (RGB) at both sizes.
val_evaluator = [
    dict(type='PSNR'), dict(type='SSIM'),
    dict(type='PSNR', channel='y', resize=256), dict(type='SSIM', channel='y', resize=256),
]
test_evaluator = val_evaluator + [
    dict(type='LPIPS', weights=None),  # None: the paths in $RF_LPIPS_WEIGHTS
    dict(type='LPIPS', weights=None, resize=256),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# The authors' optimizer: AdamW with amsgrad and no weight decay (train_resfusion_restore.py).
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
                    max_keep_ckpts=3, save_last=True, save_best='PSNR', rule='greater'),
)
log_processor = dict(by_epoch=True)
