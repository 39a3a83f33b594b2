# Resfusion on ISTD shadow removal with the paper's settings (docs/design.md §2.3, §3.2): the network sees
# [x_t, shadow image, mask] with the mask (shadow = 255) one-hot into two ±1 channels, so the
# U-Net has 3 + 3 + 2 = 8 input channels; 256 patches (crop and flip shared by image, target and
# mask), AdamW at lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by
# auto_scale_lr), cosine decay to 3e-5, gradient clipping at 1.0, T=12 linear -> 5 steps,
# 5000 epochs (the authors' scripts: AdamW with amsgrad, weight decay 0); the best checkpoint by
# PSNR@rgb, as for every paper config.
#   tools/dist_train.sh configs/istd.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/ISTD val_dataloader.dataset.data_root=/data/ISTD
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

model = dict(backbone=dict(in_channels=8), fuser=dict(mask_encoding='shadow_onehot'))

# Data (docs/design.md §3.1): train/{train_A,train_B,train_C} for training, test/{test_A,test_B,test_C}
# for testing (A shadow image, B mask with shadow = 255, C shadow-free); data_root holds train/
# and test/. LoadRestorationImages reads the mask as 0/255; PairedAlbumentations crops and flips
# shadow image, target and mask with one random draw.
data_root = 'data/ISTD'
train_dataloader = dict(dataset=dict(type='ISTDDataset', data_root=data_root))
val_dataloader = dict(dataset=dict(type='ISTDDataset', data_root=data_root))
test_dataloader = val_dataloader

# Testing reports the ISTD scripts at original size and at 256x256: PSNR/SSIM of the whole frame
# and of the masked frames (PSNR_shadow@istd, ...), LAB MAE per image (MAE_shadow@istd_256) and
# pooled (MAE_PP_shadow@istd_256). ShadowRegionMetrics (region_protocol='region') keeps true
# region scores. README "Scoring results as the paper does".
test_evaluator = [dict(type='ProtocolMetric', protocol='istd'),
                  dict(type='ProtocolMetric', protocol='istd_256')]
