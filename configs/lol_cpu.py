# LOL-v1 low light on a 2-core CPU in at most 30 minutes of training (the recipe, its hooks
# included: _base_/schedules/cpu_30min.py), with a dim-32 U-Net (9.3M parameters).
#
# data_root is in the LOL layout (our485/{low,high}, eval15/{low,high}). Every 16th pair of
# our485 is held out for validation; tools/test.py scores eval15. Without eval15 (the shared
# 162-pair subset, say) score the held-out pairs instead:
#   --cfg-options test_dataloader.dataset.split=train test_dataloader.dataset.hold_out_every=16 \
#       test_dataloader.dataset.hold_out_part=held_out
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/schedules/cpu_30min.py']

data_root = 'data/LOL'
hold_out_every = 16
# sigma = 0 at every reverse step: on held-out LOL pairs 17.63 dB / 0.669 SSIM against 17.42 dB /
# 0.559 with the posterior noise (the same checkpoint).
model = dict(backbone=dict(dim=32), sampler=dict(deterministic=True))

lol = dict(type='LOLDataset', data_root=data_root)
train_dataloader = dict(dataset=dict(split='train', hold_out_every=hold_out_every,
                                     hold_out_part='rest', pipeline={{_base_.train_pipeline}},
                                     **lol))
val_dataloader = dict(dataset=dict(split='train', hold_out_every=hold_out_every,
                                   hold_out_part='held_out', pipeline={{_base_.test_pipeline}},
                                   **lol))
test_dataloader = dict(dataset=dict(split='test', pipeline={{_base_.test_pipeline}}, **lol))
