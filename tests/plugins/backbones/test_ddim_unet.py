"""The DDPM/DDIM CIFAR-10 U-Net plugin: the true parameter count of the paper's configuration,
the DDIM state-dict layout, shapes, attention placement, gradients and clear input errors."""
import math

import pytest
import torch
from mmengine.config import Config

from rf.registry import MODELS
from rf.testing import check_backbone
from rf_plugins.backbones.ddim_unet import DDIMUNet
from rf_plugins.backbones.ddim_unet.layers import AttnBlock, step_embedding

from conftest import REPO_ROOT

# DDPM's CIFAR-10 network: "Our CIFAR10 model has 35.7 million parameters" (Ho et al. 2020, App. B).
DDPM_CIFAR10_PARAMETERS = 35_746_307


def cifar_backbone_kwargs():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'cifar10.py'))
    kwargs = dict(cfg.model.backbone)
    assert kwargs.pop('type') == 'DDIMUNet'
    return kwargs


def tiny(**kwargs):
    torch.manual_seed(0)
    return DDIMUNet(**{**dict(ch=8, norm_groups=4), **kwargs})


def test_the_cifar10_config_has_ddpms_35_7m_parameters_counted_without_running_it():
    kwargs = cifar_backbone_kwargs()
    assert kwargs == dict(in_channels=3, out_channels=3, ch=128, ch_mult=(1, 2, 2, 2),
                          num_res_blocks=2, attn_resolutions=(16,), dropout=0.1, resolution=32)
    assert DDIMUNet.count_parameters(**kwargs) == DDPM_CIFAR10_PARAMETERS
    assert round(DDPM_CIFAR10_PARAMETERS / 1e6, 1) == 35.7


def test_state_dict_follows_the_ddim_layout():
    with torch.device('meta'):
        state = DDIMUNet(**cifar_backbone_kwargs()).state_dict()
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    expected = {
        'temb.dense.0.weight': (512, 128), 'temb.dense.1.weight': (512, 512),
        'conv_in.weight': (128, 3, 3, 3),
        'down.0.block.0.conv1.weight': (128, 128, 3, 3),
        'down.0.block.0.temb_proj.weight': (128, 512),
        'down.0.downsample.conv.weight': (128, 128, 3, 3),
        'down.1.block.0.nin_shortcut.weight': (256, 128, 1, 1),
        'down.1.attn.1.q.weight': (256, 256, 1, 1),
        'mid.attn_1.proj_out.weight': (256, 256, 1, 1), 'mid.block_2.norm2.weight': (256,),
        'up.3.block.0.conv1.weight': (256, 512, 3, 3),
        'up.1.attn.2.k.weight': (256, 256, 1, 1), 'up.1.upsample.conv.weight': (256, 256, 3, 3),
        'up.0.block.2.nin_shortcut.weight': (128, 256, 1, 1),
        'norm_out.weight': (128,), 'conv_out.weight': (3, 128, 3, 3),
    }
    for key, shape in expected.items():
        assert shapes.get(key) == shape, key
    assert 'down.0.block.0.nin_shortcut.weight' not in shapes  # same width: no shortcut conv
    assert 'down.3.downsample.conv.weight' not in shapes
    assert 'up.0.upsample.conv.weight' not in shapes
    # Attention only at 16x16 (level 1 of a 32x32 input) and in the middle.
    assert {k.split('.attn')[0] for k in shapes if '.attn' in k} == {'down.1', 'up.1', 'mid'}


def test_registered_and_built_from_config():
    net = MODELS.build(dict(type='DDIMUNet', ch=8, norm_groups=4, ch_mult=(1, 2)))
    assert isinstance(net, DDIMUNet)


def test_three_channel_generation_input_and_attention_gradients():
    """The backbone contract (tests/core/test_backbone_contract.py) at in_channels=6; generation
    feeds x_t alone (3 channels), and the attention blocks must learn too."""
    net = check_backbone(DDIMUNet, in_channels=3, sizes=((32, 32),), ch=8, ch_mult=(1, 2),
                         norm_groups=4, dropout=0.0)
    net.train()
    net(torch.randn(2, 3, 32, 32), torch.tensor([0, 99])).square().mean().backward()
    assert any(float(p.grad.abs().sum()) > 0 for n, p in net.named_parameters() if 'attn' in n)


def test_a_scalar_step_is_broadcast_over_the_batch():
    net = tiny(dropout=0.0).eval()
    x = torch.randn(1, 3, 16, 24)
    with torch.no_grad():
        b = net(x, torch.tensor([50]))
        torch.testing.assert_close(net(x.expand(2, -1, -1, -1), torch.tensor(50))[1], b[0])


def test_step_embedding_is_the_ddpm_sinusoid():
    t = torch.tensor([0, 3])
    emb = step_embedding(t, 8)
    freqs = torch.tensor([math.exp(-i * math.log(10000) / 3) for i in range(4)])
    torch.testing.assert_close(emb[1], torch.cat([(3 * freqs).sin(), (3 * freqs).cos()]))
    torch.testing.assert_close(emb[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    assert step_embedding(t, 9).shape == (2, 9) and float(step_embedding(t, 9)[1, 8]) == 0.0


def test_attention_is_single_head_softmax_over_pixels():
    torch.manual_seed(0)
    block = AttnBlock(8, groups=4)
    x = torch.randn(2, 8, 3, 5)
    normed = block.norm(x)
    q, k, v = (conv(normed).flatten(2) for conv in (block.q, block.k, block.v))  # (B, C, HW)
    weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(8), dim=-1)        # (B, HW, HW)
    expected = x + block.proj_out((v @ weights.transpose(1, 2)).reshape(2, 8, 3, 5))
    torch.testing.assert_close(block(x), expected, rtol=1e-5, atol=1e-5)


def test_bad_inputs_are_refused_clearly():
    net = tiny()
    with pytest.raises(ValueError, match='divisible by 8'):
        net(torch.randn(1, 3, 20, 32), torch.tensor([0]))
    with pytest.raises(ValueError, match='norm_groups'):
        DDIMUNet(ch=8)  # GroupNorm(32) cannot split 8 channels
