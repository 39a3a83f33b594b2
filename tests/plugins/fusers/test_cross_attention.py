"""The cross_attention fuser: context tokens, the fuser -> backbone protocol, pairing errors,
training with the model (optimizer, EMA, state dict), and configs/lol_cross_attention.py."""
import math

import pytest
import torch
from mmengine.model import ExponentialMovingAverage
from mmengine.optim import build_optim_wrapper
from mmengine.structures import BaseDataElement

from rf.checkpoint import load_checkpoint_file
from rf.models.fused_input import FusedInput
from rf.registry import FUSERS, MODELS

from conftest import REPO_ROOT
from lol_layout import train_and_test_lol

UNET = dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4)
TIMM = dict(type='TimmUNet', encoder='convnext_atto', dim=8, context_min_reduction=16)


def build_model(backbone=None, fuser=None, **kwargs):
    backbone = backbone or dict(UNET, in_channels=3, context_dim=16)
    fuser = fuser or dict(type='cross_attention', context_dim=16, dim=8)
    return MODELS.build(dict(type='Resfusion', backbone=backbone, fuser=fuser,
                             task=dict(type='restoration'), **kwargs))


def make_batch(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    gts = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g) for h, w in sizes]
    return dict(inputs=dict(degraded=[gt // 4 for gt in gts]),
                data_samples=[BaseDataElement(gt=gt) for gt in gts])


def test_fuser_passes_x_t_alone_and_encodes_the_condition_into_tokens():
    fuser = FUSERS.build(dict(type='cross_attention', context_dim=16, dim=8, downsample=2))
    x_t, condition = torch.randn(2, 3, 36, 44), torch.randn(2, 3, 36, 44)
    fused = fuser(x_t, condition)
    assert isinstance(fused, FusedInput) and fused.input is x_t
    assert fused.context.shape == (2, 9 * 11, 16)  # a token per 4x4 cell
    assert fuser.fused_channels(3, 3, 1) == 3  # the backbone's in_channels: x_t only
    other = fuser(x_t, torch.randn(2, 3, 36, 44)).context
    assert not torch.allclose(other, fused.context)
    # Tokens know where they are: a uniform condition still gives distinct tokens.
    flat = fuser(x_t, torch.zeros(2, 3, 36, 44)).context[0]
    assert torch.cdist(flat, flat).add(torch.eye(len(flat)) * 1e3).min() > 1e-3


def test_shadow_mask_is_encoded_with_the_condition():
    fuser = FUSERS.build(dict(type='cross_attention', context_dim=16, dim=8, mask_channels=1,
                              mask_encoding='shadow_onehot'))
    assert fuser.encoder.layers[0][0].in_channels == 5  # 3 image + 2 mask channels
    x, mask = torch.randn(1, 3, 16, 16), torch.zeros(1, 1, 16, 16)
    shadowed = mask.clone()
    shadowed[..., :8, :] = 255
    assert not torch.allclose(fuser(x, x, mask).context, fuser(x, x, shadowed).context)


def test_fuser_errors_are_clear():
    fuser = FUSERS.build(dict(type='cross_attention', context_dim=16, dim=8))
    x = torch.randn(1, 3, 16, 16)
    with pytest.raises(ValueError, match="needs a condition.*type='concat'"):
        fuser(x)
    with pytest.raises(ValueError, match='built for 3 condition \\+ 0 mask channels = 3, got 4'):
        fuser(x, x, torch.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match='the condition has 2 image'):
        fuser(x, torch.randn(2, 3, 16, 16))
    with pytest.raises(ValueError, match='mask_encoding'):
        FUSERS.build(dict(type='cross_attention', mask_encoding='rgb'))


@pytest.mark.parametrize('backbone, fuser, message', [
    (dict(UNET, in_channels=3), dict(type='cross_attention', context_dim=16),
     'ResfusionUNet takes no context: build it with context_dim=16'),
    (dict(UNET, in_channels=6, context_dim=16), dict(type='concat'),
     "provides none: use fuser=dict\\(type='cross_attention', context_dim=16\\)"),
    (dict(UNET, in_channels=3, context_dim=32), dict(type='cross_attention', context_dim=16),
     'tokens of width 16 but the backbone ResfusionUNet expects context_dim=32'),
    (dict(UNET, in_channels=6, context_dim=16), dict(type='cross_attention', context_dim=16),
     'needs in_channels=3 \\(its out_channels\\), not 6'),
    (dict(TIMM, in_channels=3), dict(type='cross_attention', context_dim=16),
     'TimmUNet takes no context'),
])
def test_incompatible_pairs_fail_when_the_model_is_built(backbone, fuser, message):
    with pytest.raises(ValueError, match=message):
        build_model(backbone=backbone, fuser=fuser)


def test_backbones_refuse_context_they_cannot_use_and_need_it_when_built_for_it():
    x, t, tokens = torch.randn(1, 3, 16, 16), torch.tensor([0]), torch.randn(1, 4, 16)
    for cfg in (UNET, TIMM):
        plain = MODELS.build(dict(cfg, in_channels=3))
        with pytest.raises(ValueError, match='built without context_dim'):
            plain(x, t, context=tokens)
        attending = MODELS.build(dict(cfg, in_channels=3, context_dim=16))
        with pytest.raises(ValueError, match='needs context tokens'):
            attending(x, t)
        with pytest.raises(ValueError,
                           match=r'context must be \(B=1, N, 16\) tokens, got \(1, 4, 8\)'):
            attending(x, t, context=torch.randn(1, 4, 8))


def test_default_unet_keys_are_unchanged_and_authors_weights_load_into_the_attending_one():
    torch.manual_seed(0)
    plain = MODELS.build(dict(UNET, in_channels=3))
    attending = MODELS.build(dict(UNET, in_channels=3, context_dim=16, context_levels=(0, 1)))
    plain_keys, attending_keys = list(plain.state_dict()), list(attending.state_dict())
    assert not any('context' in key for key in plain_keys)
    assert attending_keys[:len(plain_keys)] == plain_keys  # the new blocks come last
    extra = {key.split('.')[1] for key in attending_keys[len(plain_keys):]}
    assert extra == {'mid', 'down0', 'up0', 'down1', 'up1'}
    result = attending.load_state_dict(plain.state_dict(), strict=False)
    assert not result.unexpected_keys
    assert all(key.startswith('context_attns.') for key in result.missing_keys)


@pytest.mark.parametrize('backbone', [dict(UNET, in_channels=3, context_dim=16),
                                      dict(TIMM, in_channels=3, context_dim=16)],
                         ids=['ResfusionUNet', 'TimmUNet'])
def test_the_condition_reaches_the_output_and_gradients_reach_the_fuser(backbone):
    torch.manual_seed(0)
    model = build_model(backbone=backbone)
    data = model.data_preprocessor(make_batch([(24, 32)] * 2), training=True)
    x_t, t = torch.randn(2, 3, 24, 32), torch.tensor([1, 3])
    with torch.no_grad():
        out = model.network(x_t, t, data['inputs'])
        changed = model.network(x_t, t, dict(degraded=-data['inputs']['degraded']))
    assert out.shape == (2, 3, 24, 32)
    assert (out - changed).abs().max() > 1e-4  # x_t is the same: only the context differs
    model(**data, mode='loss')['loss'].backward()
    for name, param in [('fuser encoder', model.fuser.encoder.layers[0][0].weight),
                        ('fuser position', model.fuser.position.weight),
                        ('backbone cross-attention', model.backbone.context_attns['mid'
                         if 'mid' in model.backbone.context_attns else 'level3'].to_kv.weight)]:
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_the_fuser_is_optimized_averaged_and_saved_with_the_model():
    torch.manual_seed(0)
    model = build_model()
    fuser_params = {id(p) for p in model.fuser.parameters()}
    assert len(fuser_params) > 0
    wrapper = build_optim_wrapper(model, dict(type='OptimWrapper',
                                              optimizer=dict(type='AdamW', lr=1e-2)))
    optimized = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert fuser_params <= optimized
    ema = ExponentialMovingAverage(model, momentum=0.5)
    ema.update_parameters(model)  # the first update copies the weights
    before = model.fuser.encoder.layers[0][0].weight.detach().clone()
    data = model.data_preprocessor(make_batch([(16, 16)] * 2), training=True)
    wrapper.update_params(model(**data, mode='loss')['loss'])
    ema.update_parameters(model)
    after = model.fuser.encoder.layers[0][0].weight.detach()
    assert not torch.equal(before, after)
    averaged = ema.state_dict()['module.fuser.encoder.layers.0.0.weight']
    torch.testing.assert_close(averaged, (before + after) / 2)
    state = model.state_dict()
    assert 'fuser.encoder.layers.0.0.weight' in state and 'fuser.position.weight' in state


def test_predict_and_tiled_restoration_with_context():
    """Each image restored at its own size; with tiles, every tile's condition is encoded."""
    torch.manual_seed(0)
    model = build_model(sampler=dict(seed=0)).eval()
    data = model.data_preprocessor(make_batch([(20, 28), (24, 32)]), training=False)
    with torch.no_grad():
        out = model(**data, mode='predict')
        assert [tuple(s.pred_img.shape) for s in out] == [(3, 20, 28), (3, 24, 32)]
        batch = model.data_preprocessor(make_batch([(24, 40)]), training=False)
        tiled = model.pipeline.replace(tile=16, tile_overlap=4).predict(model, **batch)
    assert tiled[0].pred_img.shape == (3, 24, 40) and torch.isfinite(tiled[0].pred_img).all()


@pytest.mark.slow
def test_lol_cross_attention_config_trains_one_epoch_and_tests(tmp_path):
    """configs/lol_cross_attention.py on a generated LOL layout: one epoch, a checkpoint that
    holds the fuser's encoder, tools/test.py reports the config's metrics."""
    config = REPO_ROOT / 'configs' / 'lol_cross_attention.py'
    small = ['model.backbone.dim=8', 'model.backbone.dim_mults=[1,2]', 'model.fuser.dim=8',
             'model.backbone.context_dim=16', 'model.fuser.context_dim=16']
    work_dir, metrics, stdout = train_and_test_lol(config, tmp_path, small)
    state = load_checkpoint_file(str(work_dir / 'epoch_1.pth'))['state_dict']
    assert any(key.startswith('fuser.encoder.') for key in state)
    assert any(key.startswith('backbone.context_attns.mid.') for key in state)
    assert 'metrics: PSNR@lol:' in stdout
    assert {'PSNR@lol', 'SSIM@lol', 'PSNR@lol_256', 'SSIM@lol_256'} <= set(metrics)
    assert all(math.isfinite(value) for value in metrics.values())
