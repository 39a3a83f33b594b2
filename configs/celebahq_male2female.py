# Image-to-image translation with Resfusion (docs/design.md §1.5): CelebA-HQ male -> female at 64x64, 50
# sampling steps, in the StarGAN v2 layout ({train,val}/{female,male}). x̂0 is a man, x0 a woman
# drawn at random (a new pairing every epoch), and the network sees x_t alone (no condition).
# configs/afhq_dog2cat.py's bases; only the data and the length differ: linear T=134 -> T'=50,
# the RDDM U-Net on 3 input channels, AdamW 1.1e-4 at batch 32, cosine to 3e-5, clip 1.0,
# EMA 0.9999 (tests/configs/test_configs.py checks that nothing else differs).
#   python tools/train.py configs/celebahq_male2female.py --cfg-options \
#       train_dataloader.dataset.data_root=/data/celeba_hq \
#       val_dataloader.dataset.data_root=/data/celeba_hq
#   (FID's Inception weights: fetched to the torch hub cache, docs/pretrained_weights.md)
#   python tools/test.py configs/celebahq_male2female.py \
#       work_dirs/celebahq_male2female/best_FID_epoch_240.pth \
#       --out-dir translated --cfg-options test_dataloader.dataset.data_root=/data/celeba_hq
# tools/test.py reports FID (the translated val men against the val women).
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet_translation.py',
          '_base_/datasets/unpaired_domains_64.py', '_base_/schedules/paper_translation.py']

data_root = 'data/celeba_hq'
domains = dict(source='male', target='female')
train_dataloader = dict(dataset=dict(data_root=data_root, **domains))
val_dataloader = dict(dataset=dict(data_root=data_root, **domains))
test_dataloader = val_dataloader

# The length: 240 epochs of the ~10k train men at batch 32 are about 75k iterations (AFHQ's
# 500 epochs of ~4.7k dogs), validated and checkpointed every 20; the cosine decay spans them.
max_epochs = 240
val_interval = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
                        T_max=max_epochs, eta_min_ratio=3e-5 / 1.1e-4,
                        convert_to_iter_based=True)]
