# Raindrop removal (DESIGN §3): train/{data,gt} for training, test_a/{data,gt} for testing,
# N_rain.png paired with N_clean.png. Point data_root at the folder holding train/ and test_a/,
# e.g. --cfg-options train_dataloader.dataset.data_root=/data/Raindrop (and val_/test_).
data_root = 'data/Raindrop'
patch_size = 256

train_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='PairedAlbumentations', transforms=[
        dict(type='RandomCrop', height=patch_size, width=patch_size),
        dict(type='HorizontalFlip', p=0.5),
    ]),
    dict(type='PackRestorationInputs'),
]
# Whole test images cut to multiples of 16 (top-left corner kept) before restoring and scoring.
test_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='CropToMultiple', divisor=16),
    dict(type='PackRestorationInputs'),
]

train_dataloader = dict(
    batch_size=4,  # per GPU: 8 GPUs x 4 = the paper's 32
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RaindropDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='RaindropDataset', data_root=data_root, split='test_a',
                 pipeline=test_pipeline),
)
test_dataloader = val_dataloader

# Validation selects as the authors' training scripts do (RGB PSNR at original size, PSNR@rgb);
# testing reports the deraining scripts' Y PSNR/SSIM at original size and at 256x256
# (PSNR@raindrop, PSNR@raindrop_256; README "Scoring results as the paper does").
val_evaluator = [dict(type='ProtocolMetric', protocol='rgb')]
test_evaluator = [dict(type='ProtocolMetric', protocol='raindrop'),
                  dict(type='ProtocolMetric', protocol='raindrop_256')]
