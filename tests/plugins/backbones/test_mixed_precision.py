"""Mixed precision does not change the paper's U-Net (issue 17, item 4).

The authors pick the epsilon of the weight standardisation and of the channel LayerNorm from the
activations' dtype, so an fp32 network run under autocast (``sampler.autocast``, ``--amp``)
switched from 1e-5 to 1e-3: another function, not a rounded one. rf picks it from the
parameters' dtype and computes both normalisations in float32, in the literal modules and their
fast twins;
these tests run CPU autocast (bf16, and fp16 where this torch has it)."""
import copy

import pytest
import torch
import torch.nn.functional as F

from rf_plugins.backbones.resfusion_unet import ResfusionUNet
from rf_plugins.backbones.resfusion_unet.convolutions import WeightStandardizedConv2d, standardize_weight
from rf_plugins.backbones.resfusion_unet.fast import convert, revert
from rf_plugins.backbones.resfusion_unet.layers import ChannelLayerNorm


def cpu_autocast_runs(dtype: torch.dtype) -> bool:
    """Whether this torch runs a convolution and a matrix product under CPU autocast to
    ``dtype`` (fp16 on CPUs came later than bf16)."""
    try:
        with torch.no_grad(), torch.autocast('cpu', dtype=dtype):
            out = F.conv2d(torch.randn(1, 2, 4, 4), torch.randn(2, 2, 3, 3), padding=1)
            product = torch.mm(torch.randn(2, 3), torch.randn(3, 2))
        return out.dtype == dtype and product.dtype == dtype
    except (RuntimeError, TypeError, ValueError):
        return False


def low_precision(dtype: torch.dtype, name: str):
    return pytest.param(dtype, id=name, marks=pytest.mark.skipif(
        not cpu_autocast_runs(dtype), reason=f'this torch has no CPU autocast to {name}'))


LOW = pytest.mark.parametrize('dtype', [low_precision(torch.bfloat16, 'bf16'),
                                        low_precision(torch.float16, 'fp16')])
PATHS = pytest.mark.parametrize('fast', [True, False], ids=['fast', 'plain'])
# Norm-relative error of the whole network under autocast: bf16 keeps 8 mantissa bits, fp16 11.
# (Measured about 1e-2 and 1.3e-3 here; with the activations' epsilon about 3e-2 for both.)
NETWORK_TOLERANCE = {torch.bfloat16: 2e-2, torch.float16: 5e-3}


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return ((actual.float() - expected).norm() / expected.norm()).item()


def on_path(module: torch.nn.Module, fast: bool) -> torch.nn.Module:
    """``module`` converted to its fast twin, or literal."""
    return convert(module) if fast else revert(module)


def narrow_conv(fast: bool) -> WeightStandardizedConv2d:
    """A 3x3 WS conv whose weights have a per-channel variance near 6e-6, where epsilon 1e-3
    instead of 1e-5 would shrink the standardised weight about eightfold."""
    torch.manual_seed(0)
    conv = WeightStandardizedConv2d(16, 16, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(0.05)
        conv.bias.normal_(0, 0.1)
    return on_path(conv, fast)


@LOW
@PATHS
def test_standardised_weight_under_autocast_is_the_fp32_one(dtype, fast):
    """The convolution under autocast applies the fp32 standardised weight (epsilon 1e-5),
    cast as autocast casts any weight: exactly ``F.conv2d`` with that weight under autocast.
    The input comes in low precision, as it does from an earlier layer under autocast."""
    conv = narrow_conv(fast)
    weight = conv.weight.detach()
    var, mean = torch.var_mean(weight, dim=(1, 2, 3), correction=0, keepdim=True)
    fp32_weight = (weight - mean) * torch.rsqrt(var + 1e-5)  # the authors' fp32 formula
    x = torch.randn(2, 16, 8, 8).to(dtype)
    with torch.no_grad():
        expected = F.conv2d(x.float(), fp32_weight, conv.bias, padding=1)
        with torch.autocast('cpu', dtype=dtype):
            low = conv(x)
            reference_low = F.conv2d(x, fp32_weight, conv.bias, padding=1)
    assert low.dtype == dtype
    torch.testing.assert_close(low, reference_low, rtol=0, atol=0)
    assert relative_error(low, expected) < NETWORK_TOLERANCE[dtype]


@LOW
@PATHS
def test_cached_standardised_weight_is_shared_by_autocast_and_fp32_calls(dtype, fast):
    """Filled with autocast on or off, the fast path's cache holds one fp32 standardised weight,
    so fp32 calls before and after autocast give the same bits, and autocast calls too."""
    conv, x = narrow_conv(fast), torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        fp32_before = conv(x)
        with torch.autocast('cpu', dtype=dtype):
            low_first = conv(x.to(dtype))
        if fast:
            assert conv._derived[1].dtype == torch.float32
            torch.testing.assert_close(conv._derived[1], standardize_weight(conv.weight),
                                       rtol=0, atol=0)
        fp32_after = conv(x)
        with torch.autocast('cpu', dtype=dtype):
            low_again = conv(x.to(dtype))
    torch.testing.assert_close(fp32_after, fp32_before, rtol=0, atol=0)
    torch.testing.assert_close(low_again, low_first, rtol=0, atol=0)


def test_standardize_weight_epsilon_and_precision_follow_the_weight():
    """fp32 weights: the authors' fp32 formula bit for bit, with or without autocast. bf16
    weights: epsilon 1e-3, statistics in fp32, the result rounded to bf16 once."""
    torch.manual_seed(0)
    weight = 0.05 * torch.randn(8, 4, 3, 3)
    var, mean = torch.var_mean(weight, dim=(1, 2, 3), correction=0, keepdim=True)
    authors = (weight - mean) * torch.rsqrt(var + 1e-5)
    torch.testing.assert_close(standardize_weight(weight), authors, rtol=0, atol=0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        under_autocast = standardize_weight(weight)
    torch.testing.assert_close(under_autocast, authors, rtol=0, atol=0)
    low = weight.bfloat16()
    expected = standardize_weight(low.float(), 1e-3).bfloat16()
    torch.testing.assert_close(standardize_weight(low), expected, rtol=0, atol=0)


@LOW
@PATHS
@pytest.mark.parametrize('grad', [False, True], ids=['no_grad', 'grad'])
def test_channel_layer_norm_under_autocast_is_the_fp32_one(dtype, fast, grad):
    """With fp32 gains the LayerNorm under autocast is the fp32 LayerNorm of its (low-precision)
    input, bit for bit and in fp32: epsilon 1e-5, means not lowered to bf16/fp16 products. The
    channels vary by about 1e-2 at each pixel, where epsilon 1e-3 would shrink the output."""
    torch.manual_seed(0)
    norm = ChannelLayerNorm(16)
    with torch.no_grad():
        norm.g.add_(0.3 * torch.randn_like(norm.g))
    on_path(norm, fast)
    x = (torch.randn(2, 1, 8, 8) + 0.01 * torch.randn(2, 16, 8, 8)).to(dtype)
    with torch.set_grad_enabled(grad):
        expected = norm(x.float())
        with torch.autocast('cpu', dtype=dtype):
            low = norm(x)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, expected, rtol=0, atol=0)


def test_channel_layer_norm_of_low_precision_parameters():
    """A network cast to bf16 keeps bf16 outputs and the low-precision epsilon (1e-3), with the
    statistics computed in fp32 and rounded once."""
    torch.manual_seed(0)
    reference = ChannelLayerNorm(16)
    x = torch.randn(1, 16, 4, 4)
    for fast in (True, False):
        low = on_path(copy.deepcopy(reference), fast).bfloat16()
        with torch.no_grad():
            out = low(x.bfloat16())
            expected = low._normalize(x.bfloat16().float(), 1e-3).bfloat16()
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out, expected, rtol=0, atol=0)


def small_network(fast: bool, winograd_min_channels=None) -> ResfusionUNet:
    """A dim-16 U-Net with perturbed gains and biases, as
    tests/plugins/backbones/test_fast_path.py builds it."""
    torch.manual_seed(0)
    network = ResfusionUNet(dim=16, dim_mults=(1, 2, 4), groups=4,
                            winograd_min_channels=winograd_min_channels)
    with torch.no_grad():
        for name, parameter in network.named_parameters():
            if name.endswith(('norm.weight', '.g')):
                parameter.add_(0.3 * torch.randn_like(parameter))
            elif name.endswith('bias'):
                parameter.normal_(0, 0.1)
    return network.set_fast_path(fast)


@LOW
@pytest.mark.parametrize('fast,winograd_min_channels', [(True, None), (True, 1), (False, None)],
                         ids=['fast', 'fast_winograd', 'plain'])
def test_network_under_autocast_is_the_fp32_network_rounded(dtype, fast, winograd_min_channels):
    """Sampling with autocast: the output is the fp32 network's up to low-precision rounding
    (a second call reuses the cached weights), and fp32 calls afterwards are unchanged."""
    network = small_network(fast, winograd_min_channels).eval()
    x, t = torch.randn(1, 6, 32, 32), torch.tensor([3])
    with torch.no_grad():
        expected = network(x, t)
        for _ in range(2):
            with torch.autocast('cpu', dtype=dtype):
                low = network(x, t)
            assert relative_error(low, expected) < NETWORK_TOLERANCE[dtype]
        torch.testing.assert_close(network(x, t), expected, rtol=0, atol=0)


def test_training_under_autocast_is_the_fp32_network_rounded():
    """Training with ``--amp``: the forward pass with gradients (no weight cache) is the fp32
    network's up to bf16 rounding, and every parameter gets a finite fp32 gradient."""
    network = small_network(fast=True).train()
    x, t = torch.randn(2, 6, 32, 32), torch.tensor([1, 4])
    with torch.no_grad():
        expected = network(x, t)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = network(x, t)
    assert relative_error(low, expected) < NETWORK_TOLERANCE[torch.bfloat16]
    low.float().square().mean().backward()
    for name, parameter in network.named_parameters():
        assert parameter.grad is not None and parameter.grad.dtype == torch.float32, name
        assert torch.isfinite(parameter.grad).all(), name
