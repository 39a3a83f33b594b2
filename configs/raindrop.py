# Resfusion on Raindrop removal with the paper's settings (docs/design.md §3.2): 256 patches with random
# crop and flip, AdamW at lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by
# auto_scale_lr), cosine decay to 3e-5, gradient clipping at 1.0, T=12 linear -> 5 steps,
# 5000 epochs (the authors' scripts: AdamW with amsgrad, weight decay 0); the best checkpoint by
# PSNR@rgb, as for every paper config. Scored on Y at original size (cut to multiples of 16) and
# at 256x256.
#   tools/dist_train.sh configs/raindrop.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/Raindrop \
#       val_dataloader.dataset.data_root=/data/Raindrop
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

# Data (docs/design.md §3.1): train/{data,gt} for training, test_a/{data,gt} for testing, N_rain.png
# paired with N_clean.png; data_root holds train/ and test_a/. Whole test images are cut to
# multiples of 16 (top-left corner kept) before restoring and scoring.
data_root = 'data/Raindrop'
test_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='CropToMultiple', divisor=16),
    dict(type='PackRestorationInputs'),
]
train_dataloader = dict(dataset=dict(type='RaindropDataset', data_root=data_root))
val_dataloader = dict(dataset=dict(type='RaindropDataset', data_root=data_root, split='test_a',
                                   pipeline=test_pipeline))
test_dataloader = val_dataloader

# Testing reports the deraining scripts' Y PSNR/SSIM at original size and at 256x256
# (PSNR@raindrop, PSNR@raindrop_256; README "Scoring results as the paper does").
test_evaluator = [dict(type='ProtocolMetric', protocol='raindrop'),
                  dict(type='ProtocolMetric', protocol='raindrop_256')]
