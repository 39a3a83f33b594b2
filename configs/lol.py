# Resfusion on LOL-v1 with the paper's settings (DESIGN §3): 256 patches, AdamW at lr 1.1e-4 for
# a total batch of 32 (scaled linearly with the batch by auto_scale_lr), cosine decay to 3e-5,
# gradient clipping at 1.0, T=12 linear -> 5 steps, 5000 epochs.
#   tools/dist_train.sh configs/lol.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/LOL val_dataloader.dataset.data_root=/data/LOL
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py', '_base_/datasets/lol.py',
          '_base_/schedules/paper_restoration.py']

default_hooks = {{_base_.epoch_hooks}}
log_processor = dict(by_epoch=True)
