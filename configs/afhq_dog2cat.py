# Image-to-image translation with Resfusion (docs/design.md §1.5): AFHQ-v2 dog -> cat at 64x64, 50 sampling
# steps. x̂0 is a dog, x0 a cat drawn at random (a new pairing every epoch), and the network sees
# x_t alone (no condition: the RDDM U-Net gets 3 input channels); linear T=134 -> T'=50
# (_base_/models/resfusion_unet_translation.py). Otherwise the paper's settings
# (_base_/schedules/paper_translation.py): AdamW at lr 1.1e-4 for a batch of 32, cosine decay to
# 3e-5, gradient clipping at 1.0, EMA 0.9999, 500 epochs (about 75k iterations).
#   python tools/train.py configs/afhq_dog2cat.py --cfg-options \
#       train_dataloader.dataset.data_root=/data/afhq val_dataloader.dataset.data_root=/data/afhq
#   (FID's Inception weights: fetched to the torch hub cache, docs/pretrained_weights.md)
#   python tools/test.py configs/afhq_dog2cat.py work_dirs/afhq_dog2cat/best_FID_epoch_500.pth \
#       --out-dir translated \
#       --cfg-options test_dataloader.dataset.data_root=/data/afhq
# tools/test.py reports FID (the translated val dogs against the val cats); --out-dir writes the
# translations and source | translation | a random target-domain image grids.
_base_ = ['_base_/default_runtime.py', '_base_/models/resfusion_unet_translation.py',
          '_base_/datasets/unpaired_domains_64.py', '_base_/schedules/paper_translation.py']

data_root = 'data/afhq'
domains = dict(source='dog', target='cat')
train_dataloader = dict(dataset=dict(data_root=data_root, **domains))
val_dataloader = dict(dataset=dict(data_root=data_root, **domains))
test_dataloader = val_dataloader
