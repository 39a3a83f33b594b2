# The paper's model (docs/design.md §1, §2): the RDDM U-Net at dim 64 on [x_t, x̂0] (6 channels),
# channel-concat fusion, resnoise target, linear schedule T=12 -> 5 sampling steps.
model = dict(
    type='Resfusion',
    schedule=dict(type='linear', T=12, offset_threshold=0.01),
    backbone=dict(type='ResfusionUNet', dim=64, dim_mults=(1, 2, 4, 8), in_channels=6,
                  out_channels=3, groups=8),
    fuser=dict(type='concat'),
    task=dict(type='restoration'),
    target='resnoise',
    loss=dict(type='MSELoss'),
    # A fixed sampling seed makes validation and test numbers reproducible.
    sampler=dict(seed=0),
    data_preprocessor=dict(type='RestorationDataPreprocessor', pad_size_divisor=8),
)
