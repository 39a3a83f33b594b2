# Resfusion on Raindrop removal with the paper's settings (DESIGN §3): 256 patches with random
# crop and flip, AdamW at lr 1.1e-4 for a total batch of 32 (scaled linearly with the batch by
# auto_scale_lr), cosine decay to 3e-5, gradient clipping at 1.0, T=12 linear -> 5 steps,
# 5000 epochs (the authors' scripts: AdamW with amsgrad, weight decay 0). Scored on Y at original
# size (cut to multiples of 16) and at 256x256.
#   tools/dist_train.sh configs/raindrop.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/Raindrop \
#       val_dataloader.dataset.data_root=/data/Raindrop
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/raindrop.py', '_base_/schedules/paper_restoration.py']

custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook')]

# The schedule's hooks, with the best checkpoint by the Y-channel PSNR at original size (the
# Raindrop protocol).
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='PSNR@rgb', rule='greater'),
)
log_processor = dict(by_epoch=True)
