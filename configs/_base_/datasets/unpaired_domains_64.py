# Two unpaired image domains at 64x64, the paper's translation size (docs/design.md §3.2): AFHQ-v2
# ({train,val}/{cat,dog,wild}) or CelebA-HQ ({train,val}/{female,male}); the leaf config names
# data_root and the source and target domains. UnpairedDomainsDataset pairs every source image
# (degraded) with a random target image (gt), anew each epoch (SetDatasetEpochHook tells it the
# epoch). The two images of a sample are unrelated and may differ in size, so each is loaded,
# scaled (shorter side to 64, area interpolation), centre-cropped to 64x64 and, in training,
# flipped on its own. The datasets have no test split: validation and testing use val.
image_size = 64
resize = [dict(type='SmallestMaxSize', max_size=image_size, interpolation=3),  # cv2.INTER_AREA
          dict(type='CenterCrop', height=image_size, width=image_size)]
flip = [dict(type='HorizontalFlip', p=0.5)]

train_pipeline = [
    dict(type='LoadRestorationImages', keys=('degraded',)),
    dict(type='PairedAlbumentations', image_keys=('degraded',), mask_keys=(),
         transforms=resize + flip),
    dict(type='LoadRestorationImages', keys=('gt',)),
    dict(type='PairedAlbumentations', image_keys=('gt',), mask_keys=(), transforms=resize + flip),
    dict(type='PackRestorationInputs'),
]
test_pipeline = [
    dict(type='LoadRestorationImages', keys=('degraded',)),
    dict(type='PairedAlbumentations', image_keys=('degraded',), mask_keys=(), transforms=resize),
    dict(type='LoadRestorationImages', keys=('gt',)),
    dict(type='PairedAlbumentations', image_keys=('gt',), mask_keys=(), transforms=resize),
    # sample_idx: each translation is sampled with seed + its index (its own noise, whatever
    # the batch).
    dict(type='PackRestorationInputs', meta_keys=('img_id', 'degraded_path', 'gt_path',
                                                  'ori_shape', 'sample_idx')),
]

train_dataloader = dict(
    batch_size=32,  # one GPU: the paper's batch of 32 (auto_scale_lr scales the lr with more)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='UnpairedDomainsDataset', data_root='', split='train',
                 pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='UnpairedDomainsDataset', data_root='', split='val', test_mode=True,
                 pipeline=test_pipeline),
)
test_dataloader = val_dataloader

# FID between the translations and the target domain's val images (weights in the torch hub
# cache: docs/pretrained_weights.md): lower is better. There is no ground-truth pair, so
# no PSNR/SSIM.
val_evaluator = [dict(type='FID')]
test_evaluator = val_evaluator
