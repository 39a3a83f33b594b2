# Resfusion generation on CIFAR-10 with the paper's settings (docs/design.md §1.5 and §3.2; the authors'
# README command): x̂0 = 0 (R = -x0), no condition, DDIM's CIFAR-10 U-Net (35.7M parameters) on
# x_t alone (3 channels), linear T=273 -> T'=100 sampling steps (tools/print_schedule.py --T 273),
# resnoise target, AdamW at lr 2e-4 for a total batch of 128 (amsgrad, no weight decay; the
# authors' cosine schedule runs from 2e-4 to a floor of 2e-4, i.e. it is constant), gradient
# clipping at 1.0, EMA of the weights with decay 0.9999, random horizontal flips, 3000 epochs.
# FID (weights: docs/pretrained_weights.md) of 50,000 samples against the 50,000 training
# images, unflipped, as DDPM and the authors do; test_dataloader.dataset.split=test compares
# 10,000 samples with the test images instead.
#   tools/dist_train.sh configs/cifar10.py 8 --cfg-options train_dataloader.batch_size=16 \
#       train_dataloader.dataset.data_root=/data/cifar10 \
#       val_dataloader.dataset.data_root=/data/cifar10
# (batch_size is per process: 8 x 16 = 128, the paper's batch; with 8 x 128 auto_scale_lr would
# raise the learning rate eightfold.)
# Fewer sampling steps from the same model (the paper's Table 5 uses 10, 20, 50 and 100):
#   tools/test.py configs/cifar10.py CKPT --cfg-options model.sampler.steps=20 ...
_base_ = ['_base_/default_runtime.py']

data_root = 'data/cifar10'  # holds cifar-10-batches-py/ (the extracted cifar-10-python.tar.gz)
max_epochs = 3000
base_lr = 2e-4

model = dict(
    type='Resfusion',
    schedule=dict(type='linear', T=273, offset_threshold=0.01),
    backbone=dict(type='DDIMUNet', in_channels=3, out_channels=3, ch=128, ch_mult=(1, 2, 2, 2),
                  num_res_blocks=2, attn_resolutions=(16,), dropout=0.1, resolution=32),
    fuser=dict(type='concat'),
    task=dict(type='generation', image_shape=(3, 32, 32)),
    target='resnoise',
    loss=dict(type='MSELoss'),
    # steps=None: all T'=100 trained steps; 10, 20 or 50 (or a list of 1-based trained steps
    # ending at 100) sample with a respaced sub-sequence. Every sample gets its own noise
    # (seed + its dataset index); a whole batch is sampled at once (batch_invariant=False), so
    # a sample depends on the test batch size.
    sampler=dict(seed=0, steps=None, batch_invariant=False),
    data_preprocessor=dict(type='RestorationDataPreprocessor', pad_size_divisor=8),
)

train_pipeline = [
    dict(type='PairedAlbumentations', transforms=[dict(type='HorizontalFlip', p=0.5)],
         image_keys=('gt',), mask_keys=()),
    dict(type='PackGenerationInputs'),
]
test_pipeline = [dict(type='PackGenerationInputs')]

train_dataloader = dict(
    batch_size=128,  # per process; the learning rate scales with the total (auto_scale_lr)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CIFAR10Dataset', data_root=data_root, split='train',
                 pipeline=train_pipeline),
)
# One generated sample per real image; FID compares the two sets.
val_dataloader = dict(
    batch_size=500,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CIFAR10Dataset', data_root=data_root, split='train',
                 pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = [dict(type='FID')]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(type='GuardedOptimWrapper',
                     optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.0, amsgrad=True),
                     clip_grad=dict(max_norm=1.0))
auto_scale_lr = dict(enable=True, base_batch_size=128)

# The hooks (timer, param_scheduler, sampler_seed and cuda_settings are the runtime hooks of every
# schedule): the best checkpoint by FID (lower is better).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CrashSafeCheckpointHook', interval=100, by_epoch=True,
                    max_keep_ckpts=3, save_last=True, save_best='FID', rule='less'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # GPU only: cuDNN autotuning for the fixed-size training patches but not for the whole
    # images of validation and testing; TF32 for convolutions and matrix products alike.
    cuda_settings=dict(type='CudaSettingsHook', train_benchmark=True, eval_benchmark=False,
                       tf32=True),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
# MMEngine's EMAHook: averaged = (1 - momentum)·averaged + momentum·weights after every step,
# so momentum 1e-4 is the decay 0.9999. Validation, testing and the checkpoint's state_dict use
# the average. SampleGridHook writes a grid of 64 samples at each validation and test.
custom_hooks = [
    dict(type='RNGStateHook'), dict(type='PlotCurvesHook', metric='FID'),
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=1e-4),
    dict(type='SampleGridHook', max_images=64, nrow=8, scale=2),
]
