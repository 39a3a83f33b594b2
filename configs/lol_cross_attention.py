# Resfusion on LOL-v1 with the cross_attention fuser (docs/design.md §2.3): x_t alone enters the paper's
# U-Net (in_channels=3); a small conv encoder, trained with the model, turns the degraded image
# into context tokens at 1/8 of its size, and cross-attention blocks in the U-Net's middle and
# deepest level attend to them. Everything else is configs/lol.py's (its bases;
# tests/configs/test_configs.py checks that nothing else differs): resnoise target, T=12 -> 5 steps,
# 256 patches, AdamW 1.1e-4 at batch 32, cosine to 3e-5, clip 1.0, 5000 epochs.
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

context_dim = 256  # the fuser's token width; the backbone must be built with the same
model = dict(
    backbone=dict(in_channels=3, context_dim=context_dim, context_levels=(-1,)),
    fuser=dict(_delete_=True, type='cross_attention', context_dim=context_dim, cond_channels=3,
               dim=32, downsample=3),
)
