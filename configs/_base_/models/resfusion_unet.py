# The paper's network and diffusion for 3-channel restoration (DESIGN §1-2): the RDDM U-Net at
# dim 64 on [x_t, x̂0] (6 channels), channel-concat fusion, linear schedule T=12 -> 5 steps.
schedule = dict(type='linear', T=12, offset_threshold=0.01)
backbone = dict(type='ResfusionUNet', dim=64, dim_mults=(1, 2, 4, 8), in_channels=6,
                out_channels=3, groups=8)
fuser = dict(type='concat')
target = 'resnoise'
