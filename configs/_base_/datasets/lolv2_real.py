# LOL-v2-real (DESIGN §3): the Real_captured folder, {Train,Test}/{Low,Normal},
# lowNNNNN.png <-> normalNNNNN.png (689 training and 100 test pairs); 256 patches with random
# crop and flip; tested at original size (RGB) and at 256x256 (Y), plus LPIPS when testing.
data_root = 'data/LOL-v2/Real_captured'
patch_size = 256

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

# Validation selects as the authors' training scripts do (RGB PSNR at original size, PSNR@rgb);
# testing reports the LOL scripts (Measure.py: PSNR@lol, SSIM@lol, LPIPS@lol; the MATLAB 256
# script: PSNR@lol_256, ...), LPIPS when its weights are in the torch hub cache
# (docs/pretrained_weights.md; README "Scoring results as the paper does").
val_evaluator = [dict(type='ProtocolMetric', protocol='rgb')]
test_evaluator = [dict(type='ProtocolMetric', protocol='lol', lpips='auto'),
                  dict(type='ProtocolMetric', protocol='lol_256', lpips='auto')]
