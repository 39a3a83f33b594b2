"""The backbone's fast path gives the plain (docs/design.md §2.1, the authors') output up to
rounding, and is a conversion: the same parameters, reverted to the literal network bit for bit."""
import copy

import pytest
import torch
from torch.nn import functional as F

from rf.registry import MODELS
from rf_plugins.backbones.resfusion_unet import ResfusionUNet
from rf_plugins.backbones.resfusion_unet.convolutions import UpsampleConv
from rf_plugins.backbones.resfusion_unet.fast import convert, revert
from rf_plugins.backbones.resfusion_unet.fast.base import TWINS, FastModule


def make_pair(dim=16, seed=0, winograd_min_channels=128):
    """(fast, plain) copies of one randomly initialised network, norms and gains perturbed so
    that every parameter matters. This small network has no layer of 128 channels, so the
    Winograd convolutions run only with a lower ``winograd_min_channels``."""
    torch.manual_seed(seed)
    fast = ResfusionUNet(dim=dim, dim_mults=(1, 2, 4), groups=4,
                         winograd_min_channels=winograd_min_channels)
    with torch.no_grad():
        for name, parameter in fast.named_parameters():
            if name.endswith(('norm.weight', '.g')):
                parameter.add_(0.3 * torch.randn_like(parameter))
            elif name.endswith('bias'):
                parameter.normal_(0, 0.1)
    plain = fast.literal()
    return fast.eval(), plain.eval()


def assert_close(actual, expected, rel=1e-5):
    scale = expected.abs().max().item()
    assert (actual - expected).abs().max().item() <= rel * scale, 'fast path differs'


WINOGRAD = pytest.mark.parametrize('winograd_min_channels', [None, 1], ids=['direct', 'winograd'])


@WINOGRAD
@pytest.mark.parametrize('shared_step', [True, False])
def test_fast_equals_plain_in_eval(shared_step, winograd_min_channels):
    fast, plain = make_pair(winograd_min_channels=winograd_min_channels)
    x = torch.randn(2, 6, 24, 40)  # 6x10 at the lowest level: Winograd tiles padded and cropped
    t = torch.tensor([3, 3]) if shared_step else torch.tensor([0, 4])
    with torch.no_grad():
        expected = plain(x, t)
        assert_close(fast(x, t), expected)
        assert_close(fast(x, t), expected)  # second call: cached standardised weights


def test_fast_equals_plain_with_gradients():
    fast, plain = make_pair()
    fast.train()
    plain.train()
    x = torch.randn(2, 6, 16, 16)
    t = torch.tensor([1, 1])
    out_fast, out_plain = fast(x, t), plain(x, t)
    assert_close(out_fast, out_plain)
    out_fast.square().mean().backward()
    out_plain.square().mean().backward()
    for (name, p_fast), p_plain in zip(fast.named_parameters(), plain.parameters()):
        assert_close(p_fast.grad, p_plain.grad, rel=1e-4), name


@WINOGRAD
def test_cached_weights_follow_optimizer_steps_and_loaded_weights(winograd_min_channels):
    fast, plain = make_pair(winograd_min_channels=winograd_min_channels)
    x, t = torch.randn(1, 6, 16, 16), torch.tensor([2])
    with torch.no_grad():
        fast(x, t)  # fills the caches
        for parameter in fast.parameters():
            parameter.mul_(1.1).add_(0.01)  # in place, as an optimizer step
        plain.load_state_dict(fast.state_dict())
        assert_close(fast(x, t), plain(x, t))
        other, _ = make_pair(seed=1)
        fast.load_state_dict(other.state_dict())
        plain.load_state_dict(other.state_dict())
        assert_close(fast(x, t), plain(x, t))


def test_upsample_conv_is_the_transposed_convolution():
    torch.manual_seed(0)
    module = convert(UpsampleConv(5, 7).double())
    x = torch.randn(2, 5, 7, 9, dtype=torch.float64)
    expected = F.conv2d(F.interpolate(x, scale_factor=2, mode='nearest'), module[1].weight,
                        module[1].bias, padding=1)
    torch.testing.assert_close(module(x), expected, rtol=0, atol=1e-12)
    assert list(dict(module.named_parameters())) == ['1.weight', '1.bias']  # the authors' keys


def test_state_dict_keys_do_not_depend_on_the_path():
    fast, plain = make_pair()
    assert list(fast.state_dict()) == list(plain.state_dict())


def test_convert_keeps_the_parameters_and_revert_gives_the_literal_network_back():
    """convert swaps every literal module for its twin in place: the same Parameter objects
    under the same names, so an optimizer built before keeps working; revert restores the
    literal classes with nothing left on the instances, and the literal output bit for bit."""
    _, net = make_pair(winograd_min_channels=1)
    x, t = torch.randn(1, 6, 16, 24), torch.tensor([2])
    parameters = dict(net.named_parameters())
    state = {key: value.clone() for key, value in net.state_dict().items()}
    literal_classes = [type(module) for module in net.modules()]
    assert not net.fast_path and any(cls in TWINS for cls in literal_classes)
    with torch.no_grad():
        literal = net(x, t)
        assert convert(net, winograd_min_channels=1) is net and net.fast_path
        assert not any(type(module) in TWINS for module in net.modules())  # all converted
        assert dict(net.named_parameters()) == parameters  # the same objects
        assert all(torch.equal(value, state[key]) for key, value in net.state_dict().items())
        assert list(net.state_dict()) == list(state)
        assert_close(net(x, t), literal)
        assert_close(net(x, t), literal)  # with the cached weights
        assert revert(net) is net and not net.fast_path
        assert [type(module) for module in net.modules()] == literal_classes
        assert all('_derived' not in module.__dict__ and 'winograd_min_channels' not in
                   module.__dict__ for module in net.modules() if module is not net)
        torch.testing.assert_close(net(x, t), literal, rtol=0, atol=0)


def test_an_optimizer_built_on_the_literal_network_trains_the_converted_one():
    _, literal = make_pair()
    literal.train()
    converted = copy.deepcopy(literal)
    optimizers = [torch.optim.SGD(net.parameters(), lr=0.1) for net in (literal, converted)]
    convert(converted)
    x, t = torch.randn(2, 6, 16, 16), torch.tensor([1, 3])
    for net, optimizer in zip((literal, converted), optimizers):
        net(x, t).square().mean().backward()
        optimizer.step()
    for (name, p_literal), p_converted in zip(literal.named_parameters(), converted.parameters()):
        assert_close(p_converted, p_literal)
    with torch.no_grad():
        assert_close(converted.eval()(x, t), literal.eval()(x, t))


def test_literal_copy_is_the_benchmark_reference():
    net, _ = make_pair()
    copy_ = net.literal()
    assert net.fast_path and not copy_.fast_path and copy_ is not net
    assert not any(isinstance(module, FastModule) for module in copy_.modules())
    assert all(torch.equal(a, b) and a.data_ptr() != b.data_ptr() for a, b in
               zip(net.state_dict().values(), copy_.state_dict().values()))
    x, t = torch.randn(1, 6, 16, 16), torch.tensor([4])
    with torch.no_grad():
        assert_close(net(x, t), copy_(x, t))


def test_every_twin_subclasses_its_literal_class():
    for literal, twin in TWINS.items():
        assert issubclass(twin, literal) and twin.literal_class is literal
    with pytest.raises(TypeError, match='literal class'):
        class Orphan(FastModule, torch.nn.Linear):  # noqa: F841
            pass


@WINOGRAD
def test_restoration_with_the_fast_path_matches_the_plain_one(winograd_min_channels):
    """All T' sampler steps through the model: outputs within 1e-4 (the issue's bound)."""
    cfg = dict(type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
               schedule=dict(type='linear', T=12), sampler=dict(seed=0),
               backbone=dict(type='ResfusionUNet', dim=16, dim_mults=(1, 2, 4), groups=4,
                             winograd_min_channels=winograd_min_channels))
    torch.manual_seed(0)
    fast = MODELS.build(cfg).eval()
    plain = copy.deepcopy(fast)
    plain.backbone.set_fast_path(False)
    inputs = {'degraded': torch.rand(1, 3, 32, 24) * 2 - 1}
    torch.testing.assert_close(fast.restore(inputs), plain.restore(inputs), rtol=0, atol=1e-4)


@WINOGRAD
def test_restoration_sees_weights_swapped_through_data_as_ema_does(winograd_min_channels):
    """MMEngine's EMAHook swaps weights with ``param.data.copy_``, which leaves the version
    counter alone: each restoration must still use the weights it finds."""
    backbone = dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4,
                    winograd_min_channels=winograd_min_channels)
    model = tiny_resfusion(backbone=backbone)
    inputs = {'degraded': torch.rand(1, 3, 16, 16) * 2 - 1}
    before = model.restore(inputs)  # fills the caches
    other = tiny_resfusion(backbone=backbone)
    with torch.no_grad():
        for mine, theirs in zip(model.backbone.parameters(), other.backbone.parameters()):
            mine.data.copy_(theirs.data * 1.5)
    swapped = model.restore(inputs)
    reference = copy.deepcopy(model)
    reference.backbone.set_fast_path(False)
    torch.testing.assert_close(swapped, reference.restore(inputs), rtol=0, atol=1e-4)
    assert (swapped - before).abs().max() > 1e-3


def tiny_resfusion(**kwargs):
    cfg = dict(type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
               schedule=dict(type='linear', T=12), sampler=dict(seed=0),
               backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


def test_channels_last_and_autocast_while_sampling():
    inputs = {'degraded': torch.rand(1, 3, 16, 24) * 2 - 1}
    reference = tiny_resfusion().restore(inputs)
    channels_last = tiny_resfusion(sampler=dict(seed=0, channels_last=True))
    weight = channels_last.backbone.init_conv.weight
    # converted when built (before DDP wraps the model), never again while sampling
    assert weight.is_contiguous(memory_format=torch.channels_last)
    storage = weight.data_ptr()
    torch.testing.assert_close(channels_last.restore(inputs), reference, rtol=0, atol=1e-5)
    assert channels_last.backbone.init_conv.weight.data_ptr() == storage
    bf16 = tiny_resfusion(sampler=dict(seed=0, autocast='bf16')).restore(inputs)
    assert bf16.dtype == torch.float32
    # bf16 rounding, not another result (an unrelated restoration differs by ~0.5 on average)
    assert 0 < (bf16 - reference).abs().mean() < 0.05
    with pytest.raises(ValueError, match="autocast='fp8'"):
        tiny_resfusion(sampler=dict(autocast='fp8'))


def test_compiled_backbone_matches_eager():
    """The compile switch's wiring, through dynamo and AOTAutograd (the aot_eager backend: the
    default inductor backend adds two minutes of C++ compilation for no more coverage)."""
    inputs = {'degraded': torch.rand(1, 3, 16, 16) * 2 - 1}
    eager = tiny_resfusion()
    compiled = tiny_resfusion(compile=dict(backend='aot_eager'))
    assert compiled.compile_options == dict(backend='aot_eager')
    assert tiny_resfusion(compile=True).compile_options == {}
    torch.testing.assert_close(compiled.restore(inputs), eager.restore(inputs), rtol=0, atol=1e-4)
    assert list(compiled.state_dict()) == list(eager.state_dict())  # no wrapper in the keys
    with pytest.raises(TypeError, match='compile'):
        tiny_resfusion(compile='yes')
