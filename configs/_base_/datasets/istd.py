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

# Validation selects as the authors' training scripts do (RGB PSNR at original size, PSNR@rgb);
# testing reports the ISTD scripts at original size and at 256x256: PSNR/SSIM of the whole frame
# and of the masked frames (PSNR_shadow@istd, ...), LAB MAE per image (MAE_shadow@istd_256) and
# pooled (MAE_PP_shadow@istd_256). ShadowRegionMetrics (region_protocol='region') keeps true
# region scores. README "Scoring results as the paper does".
val_evaluator = [dict(type='ProtocolMetric', protocol='rgb')]
test_evaluator = [dict(type='ProtocolMetric', protocol='istd'),
                  dict(type='ProtocolMetric', protocol='istd_256')]
