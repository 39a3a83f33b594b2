# Resfusion on ISTD shadow removal with the paper's settings (DESIGN §1, §3): the network sees
# [x_t, shadow image, mask] with the mask (shadow = 255) one-hot into two ±1 channels, so the
# U-Net has 3 + 3 + 2 = 8 input channels; 256 patches (crop and flip shared by image, target and
# mask), AdamW at lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by
# auto_scale_lr), cosine decay to 3e-5, gradient clipping at 1.0, T=12 linear -> 5 steps,
# 5000 epochs (the authors' scripts: AdamW with amsgrad, weight decay 0).
#   tools/dist_train.sh configs/istd.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/ISTD val_dataloader.dataset.data_root=/data/ISTD
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/istd.py', '_base_/schedules/paper_restoration.py']

model = dict(backbone=dict(in_channels=8), fuser=dict(mask_encoding='shadow_onehot'))

custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook')]

# The schedule's hooks, with the best checkpoint by the whole-image LAB MAE at original size
# (ISTD's headline number).
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='PSNR@rgb', rule='greater'),
)
log_processor = dict(by_epoch=True)
