# Resfusion on LOL-v1 with a timm encoder instead of the paper's U-Net: TimmUNet, a U-Net whose
# encoder is timm.create_model('convnext_tiny', features_only=True) and whose decoder takes the
# diffusion step (scale/shift in every block). Any timm architecture name works in `encoder`
# (resnet34, efficientnet_b3, ...; BatchNorm encoders need batches > 1). Everything else is
# configs/lol.py's (its bases; tests/configs/test_configs.py checks that nothing else differs): concat
# fusion [x_t, x̂0], resnoise target, T=12 -> 5 steps, 256 patches, AdamW 1.1e-4 at batch 32,
# cosine to 3e-5, clip 1.0, 5000 epochs.
# ImageNet weights from a local file (never downloaded), e.g. timm's convnext_tiny
# pytorch_model.bin: --cfg-options model.backbone.encoder_weights=/path/to/convnext_tiny.bin
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet.py',
          '_base_/datasets/paired_restoration.py', '_base_/schedules/paper_restoration.py']

model = dict(backbone=dict(_delete_=True, type='TimmUNet', encoder='convnext_tiny',
                           in_channels=6, out_channels=3, dim=64, encoder_weights=None))
