# Paired restoration data with the paper's settings (docs/design.md §3.2), for LOL-v1 unless the config
# names another dataset: 256 patches with a random crop and horizontal flip (one random draw for
# degraded image, target and mask) for training, whole images for validation and testing.
#
# Why one fragment with LOL-v1 as its dataset, not a fragment per dataset: the loaders, pipelines
# and batch sizes are the same for every paired dataset, and our configs inherit one level only
# (a fragment has no _base_), while MMEngine refuses a key defined by two bases, so no second
# fragment could fill in the loaders' dataset. LOL-v1's configs (lol.py and its ablations and
# variants) therefore inherit this unchanged, each stating only what it changes; another
# dataset's config names its dataset, data_root and test protocols in a few lines:
#   data_root = 'data/ISTD'
#   train_dataloader = dict(dataset=dict(type='ISTDDataset', data_root=data_root))
#   val_dataloader = dict(dataset=dict(type='ISTDDataset', data_root=data_root))
#   test_dataloader = val_dataloader
#   test_evaluator = [...]
# (and split= or pipeline= in val_dataloader's dataset where its test split differs: raindrop.py).
#
# LOL-v1: our485 for training, eval15 for testing; point data_root at the folder holding both,
# e.g. --cfg-options train_dataloader.dataset.data_root=/data/LOL (and val_/test_).
data_root = 'data/LOL'
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
    dataset=dict(type='LOLDataset', data_root=data_root, split='train', pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='LOLDataset', data_root=data_root, split='test', pipeline=test_pipeline),
)
test_dataloader = val_dataloader

# Validation selects the checkpoint as the authors' training scripts do (RGB PSNR at original
# size, PSNR@rgb); testing reports the paper's protocols (README "Scoring results as the paper
# does"): for LOL, Measure.py (PSNR@lol, SSIM@lol, LPIPS@lol when its weights are in the torch
# hub cache: docs/pretrained_weights.md) and evaluate_PSNR_SSIM_256.m (PSNR@lol_256, ...), on
# predictions truncated to uint8 as theirs.
val_evaluator = [dict(type='ProtocolMetric', protocol='rgb')]
test_evaluator = [dict(type='ProtocolMetric', protocol='lol', lpips='auto'),
                  dict(type='ProtocolMetric', protocol='lol_256', lpips='auto')]
