# ISTD shadow removal (DESIGN §3): train/{train_A,train_B,train_C} for training,
# test/{test_A,test_B,test_C} for testing (A shadow image, B mask with shadow = 255, C shadow-free).
# Point data_root at the folder holding train/ and test/, e.g.
# --cfg-options train_dataloader.dataset.data_root=/data/ISTD (and val_/test_).
data_root = 'data/ISTD'
patch_size = 256

# LoadRestorationImages reads the mask as 0/255; PairedAlbumentations crops and flips shadow
# image, target and mask with one random draw.
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
    dataset=dict(type='ISTDDataset', data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ISTDDataset', data_root=data_root, split='test', pipeline=test_pipeline),
)
test_dataloader = val_dataloader

# ISTD protocols (DESIGN §3): RGB PSNR/SSIM and LAB MAE over the shadow region, the non-shadow
# region and the whole image, at original size and at 256x256 (keys PSNR_shadow,
# MAE_LAB_nonshadow, SSIM_all_256, ...). Region PSNR/SSIM follow the authors' script (whole-frame
# scores of the masked images, comparable with published tables); region_protocol='region'
# scores the region's pixels only (ShadowRegionMetrics' doc).
val_evaluator = [dict(type='ShadowRegionMetrics'), dict(type='ShadowRegionMetrics', resize=256)]
test_evaluator = val_evaluator
