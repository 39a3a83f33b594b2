# The demo's data: photographs shipped by scikit-image, darkened at run time by a camera-like
# low-light model (SyntheticLowLight). Training and test scenes are distinct; the test
# degradation is fixed by its seed, so every run is scored on the same inputs.
patch_size = 64

train_pipeline = [
    dict(type='PairedAlbumentations', image_keys=('gt',), transforms=[
        dict(type='RandomCrop', height=patch_size, width=patch_size),
        dict(type='HorizontalFlip', p=0.5),
        dict(type='VerticalFlip', p=0.5),
    ]),
    dict(type='SyntheticLowLight'),
    dict(type='PackRestorationInputs'),
]
test_pipeline = [
    dict(type='SyntheticLowLight', seed=2024),
    dict(type='PackRestorationInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='SkimagePhotosDataset', split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SkimagePhotosDataset', split='test', pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
# The input's own scores (PSNR_input, SSIM_input) give the gain.
test_evaluator = val_evaluator + [dict(type='PSNR', source='input'), dict(type='SSIM', source='input')]
