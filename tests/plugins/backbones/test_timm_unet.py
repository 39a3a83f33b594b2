"""TimmUNet: any timm encoder as a time-conditioned U-Net, local encoder weights, and
configs/lol_timm.py."""
import math

import numpy as np
import pytest
import torch

from rf.checkpoint import load_checkpoint_file
from rf.registry import MODELS

from conftest import REPO_ROOT
from lol_layout import train_and_test_lol

# Three families: BatchNorm ResNet (stride-2 stem), ConvNeXt (LayerNorm, stride-4 stem, four
# levels), MobileNetV3 (depthwise, odd widths such as 8 and 288).
ENCODERS = ['resnet18', 'convnext_atto', 'mobilenetv3_small_050']


def build(encoder='convnext_atto', **kwargs):
    return MODELS.build(dict(type='TimmUNet', encoder=encoder, dim=8, **kwargs))


@pytest.fixture(scope='module', params=ENCODERS)
def net(request):
    torch.manual_seed(0)
    return build(request.param, in_channels=6).eval()


def test_output_has_the_input_size_at_any_size(net):
    """37x45 is no multiple of the total stride 32: padded, then cropped back."""
    x = torch.randn(2, 6, 37, 45)
    with torch.no_grad():
        out = net(x, torch.tensor([0, 3]))
        assert out.shape == (2, 3, 37, 45) and torch.isfinite(out).all()
        assert net.size_multiple == 32
        padded = torch.nn.functional.pad(x, (0, 19, 0, 27), mode='reflect')
        torch.testing.assert_close(out, net(padded, torch.tensor([0, 3]))[..., :37, :45])


@pytest.mark.parametrize('encoder', ENCODERS)
def test_gradients_reach_the_encoder_stem_with_the_fused_channels(encoder):
    """The rest of the backbone contract (step per sample, gradients everywhere, channel
    error) is tests/core/test_backbone_contract.py's; here: in_chans reaches timm's stem."""
    torch.manual_seed(0)
    net = build(encoder, in_channels=6).train()
    net(torch.randn(2, 6, 32, 32), torch.tensor([1, 2])).square().mean().backward()
    first_encoder_weight = next(p for name, p in net.encoder.named_parameters()
                                if name.endswith('weight') and p.dim() == 4)
    assert first_encoder_weight.shape[1] == 6 and first_encoder_weight.grad.abs().sum() > 0


def test_decoder_widths_follow_dim_and_can_be_set():
    net = build('resnet18', in_channels=3)
    assert [block.conv2.out_channels for block in net.decoder] == [8, 16, 32, 64, 64]
    net = build('resnet18', in_channels=3, decoder_channels=[8, 8, 16, 16, 24])
    assert [block.conv2.out_channels for block in net.decoder] == [8, 8, 16, 16, 24]
    with pytest.raises(ValueError, match='decoder_channels has 2 entries.*5 feature levels'):
        build('resnet18', in_channels=3, decoder_channels=[8, 8])


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="timm has no architecture 'resnet_18x'.*resnet18"):
        build('resnet_18x')


@pytest.fixture(scope='module')
def resnet18_weights(tmp_path_factory):
    """A classification resnet18's state dict, as timm's pretrained files hold it."""
    import timm
    torch.manual_seed(1)
    classifier = timm.create_model('resnet18', pretrained=False)
    path = tmp_path_factory.mktemp('weights') / 'resnet18.pth'
    torch.save(classifier.state_dict(), path)
    return path, classifier.state_dict()


def test_encoder_weights_load_from_a_local_file(resnet18_weights, monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    path, state = resnet18_weights
    net = build('resnet18', in_channels=3, encoder_weights=str(path))
    torch.testing.assert_close(net.encoder.conv1.weight, state['conv1.weight'])
    torch.testing.assert_close(net.encoder.layer4[1].conv2.weight, state['layer4.1.conv2.weight'])
    # 6 input channels: timm tiles the RGB filters and rescales them by 3/6.
    net6 = build('resnet18', in_channels=6, encoder_weights=str(path))
    torch.testing.assert_close(net6.encoder.conv1.weight,
                               state['conv1.weight'].repeat(1, 2, 1, 1) * 0.5)


def test_missing_or_wrong_encoder_weights_are_clear_errors(resnet18_weights, tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth does not exist.*never downloaded'):
        build('resnet18', in_channels=3, encoder_weights=str(tmp_path / 'nowhere.pth'))
    path, _ = resnet18_weights
    with pytest.raises(ValueError, match=f"could not load the encoder weights {path} into the "
                                         f"timm model 'convnext_atto'"):
        build('convnext_atto', in_channels=3, encoder_weights=str(path))


def test_resfusion_trains_and_restores_with_it():
    """The concat fuser and TimmUNet in the Resfusion model: a loss step moves the timm
    encoder's weights, and prediction returns each image at its own size."""
    from mmengine.structures import BaseDataElement
    torch.manual_seed(0)
    model = MODELS.build(dict(type='Resfusion', fuser=dict(type='concat'),
                              task=dict(type='restoration'),
                              backbone=dict(type='TimmUNet', encoder='convnext_atto', dim=8,
                                            in_channels=6)))
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
              for h, w in ((24, 40), (24, 40))]
    batch = dict(inputs=dict(degraded=[i // 4 for i in images]),
                 data_samples=[BaseDataElement(gt=i) for i in images])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = model.backbone.encoder.stem_0.weight.detach().clone()
    loss = model(**model.data_preprocessor(batch, training=True), mode='loss')['loss']
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, model.backbone.encoder.stem_0.weight)
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch, training=False), mode='predict')
    assert [tuple(s.pred_img.shape) for s in out] == [(3, 24, 40)] * 2


@pytest.mark.slow
def test_lol_timm_config_trains_one_epoch_and_tests(tmp_path):
    """configs/lol_timm.py on a generated LOL layout: one epoch, a checkpoint, tools/test.py
    reports the config's metrics (a small convnext encoder keeps it fast)."""
    config = REPO_ROOT / 'configs' / 'lol_timm.py'
    work_dir, metrics, stdout = train_and_test_lol(
        config, tmp_path, ['model.backbone.encoder=convnext_atto', 'model.backbone.dim=8'])
    state = load_checkpoint_file(str(work_dir / 'epoch_1.pth'))['state_dict']
    assert any(key.startswith('backbone.encoder.') for key in state)
    assert 'metrics: PSNR@lol:' in stdout
    assert {'PSNR@lol', 'SSIM@lol', 'PSNR@lol_256', 'SSIM@lol_256'} <= set(metrics)
    assert all(math.isfinite(value) for value in metrics.values())
    assert np.isfinite(metrics['PSNR@lol']) and metrics['PSNR@lol'] > 0
