# Resfusion on LOL-v2-real with the paper's settings (docs/design.md §3.2), the recipe of configs/lol.py:
# RDDM U-Net (dim 64), T=12 linear -> 5 steps, 256 patches with random crop and flip, AdamW at
# lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by auto_scale_lr), cosine
# decay to 3e-5, gradient clipping at 1.0, 5000 epochs. lol.py's bases, with another dataset.
# Data: LOL-v2's Real_captured folder, {Train,Test}/{Low,Normal}, lowNNNNN.png <-> normalNNNNN.png
# (689 training and 100 test pairs).
#   tools/dist_train.sh configs/lolv2_real.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/LOL-v2/Real_captured \
#       val_dataloader.dataset.data_root=/data/LOL-v2/Real_captured
# Testing reports the LOL scripts (Measure.py: PSNR@lol, SSIM@lol, LPIPS@lol; the MATLAB 256
# script: PSNR@lol_256, ...), the fragment's test_evaluator. LPIPS (the lpips package, AlexNet
# v0.1) needs AlexNet weights, which torch downloads to its hub cache on first use (where to
# place them offline: docs/pretrained_weights.md):
#   python tools/test.py configs/lolv2_real.py CKPT \
#       --cfg-options test_dataloader.dataset.data_root=/data/LOL-v2/Real_captured
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

data_root = 'data/LOL-v2/Real_captured'
train_dataloader = dict(dataset=dict(type='LOLv2RealDataset', data_root=data_root))
val_dataloader = dict(dataset=dict(type='LOLv2RealDataset', data_root=data_root))
test_dataloader = val_dataloader
