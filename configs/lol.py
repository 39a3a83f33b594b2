# Resfusion on LOL-v1 with the paper's settings (docs/design.md §3.2): 256 patches, AdamW at lr 1.1e-4 for
# a total batch of 32 (scaled linearly with the batch by auto_scale_lr), cosine decay to 3e-5,
# gradient clipping at 1.0, T=12 linear -> 5 steps, 5000 epochs. All of it is in the fragments,
# so an ablation or variant is these bases plus the lines it changes (lol_x0.py, lol_residual.py,
# lol_cross_attention.py, lol_timm.py; tests/configs/test_configs.py checks that nothing else differs).
#   tools/dist_train.sh configs/lol.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/LOL val_dataloader.dataset.data_root=/data/LOL
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']
