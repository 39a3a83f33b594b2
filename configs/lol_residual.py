# The paper's Table 4 ablation on LOL-v1: configs/lol.py with the network predicting the
# residual R = x̂0 - x0 instead of the resnoise (target='residual', docs/design.md §1.3). The sampler turns
# each prediction into the resnoise of its step and clamps the predicted x0 to [-1, 1] every step.
# lol.py's bases plus one line (tests/configs/test_configs.py checks that nothing else differs):
#   tools/dist_train.sh configs/lol_residual.py 8 --cfg-options \
#       train_dataloader.dataset.data_root=/data/LOL val_dataloader.dataset.data_root=/data/LOL
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

# The prediction target (clip_x0=True is the sampler's default for it; stated, as it matters).
model = dict(target='residual', sampler=dict(clip_x0=True))
