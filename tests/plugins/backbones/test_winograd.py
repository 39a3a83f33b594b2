"""Winograd F(4x4, 3x3): exact maths in float64, float32 error within the documented bound,
and the network takes it exactly where it should."""
import pytest
import torch
from torch.nn import functional as F

from rf_plugins.backbones.resfusion_unet import ResfusionUNet
from rf_plugins.backbones.resfusion_unet.fast import convolutions, winograd
from rf_plugins.backbones.resfusion_unet.fast.convolutions import FastConv2d, FastUpsampleConv
from rf_plugins.backbones.resfusion_unet.fast.winograd import (
    toom_cook_matrices,
    winograd_conv3x3,
    winograd_kernel,
)


def test_f2_matrices_are_the_published_ones():
    """With the points 0, 1, -1 the construction gives Lavin & Gray's F(2x2, 3x3) matrices."""
    b_t, g, a_t = toom_cook_matrices(2, 3, (0.0, 1.0, -1.0))
    expected_b_t = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    expected_g = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    expected_a_t = [[1, 1, 1, 0], [0, 1, -1, -1]]
    # The published forms flip signs in pairs that cancel: row 0 of B^T with row 0 of G (the
    # Lagrange denominator at 0 is -1), row 3 of B^T with column 3 of A^T (M(x) = x³ - x).
    def as_tensor(rows):
        return torch.tensor(rows, dtype=torch.float64)

    def signs(*values):
        return as_tensor(values)

    torch.testing.assert_close(b_t * signs(-1, 1, 1, -1)[:, None], as_tensor(expected_b_t))
    torch.testing.assert_close(g * signs(-1, 1, 1, 1)[:, None], as_tensor(expected_g))
    torch.testing.assert_close(a_t * signs(1, 1, 1, -1)[None, :], as_tensor(expected_a_t))


@pytest.mark.parametrize('m, points', [
    (2, (0.0, 1.0, -1.0)), (4, winograd.POINTS), (4, (0.0, 1.0, -1.0, 2.0, -2.0)),
    (3, (0.0, 1.0, -1.0, 2.0))])
def test_matrices_compute_the_correlation_exactly(m, points):
    b_t, g, a_t = toom_cook_matrices(m, 3, points)
    torch.manual_seed(0)
    d, taps = torch.randn(m + 2, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    expected = torch.stack([(d[i:i + 3] * taps).sum() for i in range(m)])
    torch.testing.assert_close(a_t @ ((g @ taps) * (b_t @ d)), expected, rtol=1e-12, atol=1e-12)


def test_bad_points_are_refused():
    with pytest.raises(ValueError, match='distinct finite points'):
        toom_cook_matrices(4, 3, (0.0, 1.0, 1.0, 2.0, -0.5))
    with pytest.raises(ValueError, match='needs 5'):
        toom_cook_matrices(4, 3, (0.0, 1.0))


@pytest.mark.parametrize('shape', [(1, 5, 7, 16, 16), (3, 4, 6, 13, 10), (2, 3, 2, 1, 1),
                                   (1, 2, 3, 5, 22)])
@pytest.mark.parametrize('with_bias', [True, False])
def test_convolution_equals_conv2d_in_float64(shape, with_bias):
    n, c_in, c_out, h, w = shape
    torch.manual_seed(0)
    x = torch.randn(n, c_in, h, w, dtype=torch.float64)
    weight = torch.randn(c_out, c_in, 3, 3, dtype=torch.float64)
    bias = torch.randn(c_out, dtype=torch.float64) if with_bias else None
    out = winograd_conv3x3(x, winograd_kernel(weight), bias)
    assert out.is_contiguous()
    torch.testing.assert_close(out, F.conv2d(x, weight, bias, padding=1), rtol=1e-10, atol=1e-10)


def test_float32_error_stays_within_the_documented_bound():
    """Relative to the output's scale: 4.6e-6 with the chosen points at this wide layer, where
    the textbook points 0, ±1, ±2 give 1.1e-5, so the bound also guards the choice."""
    torch.manual_seed(0)
    x = torch.randn(1, 256, 16, 16)
    weight = torch.randn(256, 256, 3, 3) / (256 * 9) ** 0.5
    bias = torch.randn(256) * 0.1
    expected = F.conv2d(x.double(), weight.double(), bias.double(), padding=1)
    out = winograd_conv3x3(x, winograd_kernel(weight), bias)
    assert out.dtype == torch.float32
    error = ((out.double() - expected).abs().max() / expected.abs().max()).item()
    assert error < 7e-6


def test_network_takes_winograd_only_where_configured(monkeypatch):
    calls = []
    original = winograd_conv3x3

    def counting(x, kernel, bias):
        calls.append(x.shape[1])
        return original(x, kernel, bias)

    monkeypatch.setattr(convolutions, 'winograd_conv3x3', counting)
    x, t = torch.randn(1, 6, 16, 16), torch.tensor([1])
    network = ResfusionUNet(dim=8, dim_mults=(1, 2), groups=4, winograd_min_channels=16).eval()
    with torch.no_grad():
        network(x, t)
    assert calls and min(calls) >= 16
    # The convolution inside an upsampling pair is not called: its pair is a transposed conv.
    upsampling = {id(m[1]) for m in network.modules() if isinstance(m, FastUpsampleConv)}
    wide = [m for m in network.modules() if isinstance(m, FastConv2d) and id(m) not in upsampling
            and m.kernel_size == (3, 3) and min(m.in_channels, m.out_channels) >= 16]
    assert len(calls) == len(wide)

    calls.clear()
    network(x, t)  # gradients on: the direct convolution, so training is unchanged
    with torch.no_grad():
        network.set_fast_path(False)(x, t)
        ResfusionUNet(dim=8, dim_mults=(1, 2), groups=4, winograd_min_channels=None).eval()(x, t)
    assert calls == []


def test_winograd_min_channels_is_checked():
    with pytest.raises(ValueError, match='winograd_min_channels'):
        ResfusionUNet(dim=8, dim_mults=(1, 2), groups=4, winograd_min_channels=0)


def wide_conv(**kwargs):
    torch.manual_seed(0)
    conv = FastConv2d(16, 16, 3, padding=1, **kwargs)
    conv.winograd_min_channels = 1
    return conv


def test_autocast_takes_the_direct_route_and_leaves_no_low_precision_kernel():
    conv, x = wide_conv(), torch.randn(1, 16, 8, 8)
    with torch.no_grad():
        assert conv.uses_winograd(x)
        expected = conv(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert not conv.uses_winograd(x)
            low = conv(x)
        assert low.dtype == torch.bfloat16
        torch.testing.assert_close(conv(x), expected, rtol=0, atol=0)


def test_weights_derived_under_autocast_or_inference_mode_serve_later_calls():
    """A weight derived under autocast is cached in the weight's dtype, and one derived under
    inference_mode is an ordinary tensor, so later calls without them still work."""
    network = ResfusionUNet(dim=8, dim_mults=(1, 2), groups=4, winograd_min_channels=8).eval()
    x, t = torch.randn(1, 6, 16, 16), torch.tensor([1])
    with torch.no_grad():
        expected = network(x, t)
        network.clear_weight_caches()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            network(x.bfloat16(), t)
        torch.testing.assert_close(network(x, t), expected, rtol=0, atol=0)
    network.clear_weight_caches()
    with torch.inference_mode():
        network(x, t)
    network.requires_grad_(False)
    x.requires_grad_(True)
    network(x, t).sum().backward()  # reuses the cached weights in an autograd graph
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_other_padding_modes_keep_the_direct_convolution():
    conv, x = wide_conv(padding_mode='reflect'), torch.randn(2, 16, 8, 8)
    reference = torch.nn.Conv2d(16, 16, 3, padding=1, padding_mode='reflect')
    reference.load_state_dict(conv.state_dict())
    with torch.no_grad():
        assert not conv.uses_winograd(x)
        torch.testing.assert_close(conv(x), reference(x))


def test_a_batch_shares_one_product_per_tile_position(monkeypatch):
    """Each image of a batch gets the result it gets alone, and the kernel is not copied per
    image (one (C_out x C_in) x (C_in x N·tiles) product per position)."""
    torch.manual_seed(0)
    x = torch.randn(3, 16, 9, 7, dtype=torch.float64)
    weight = torch.randn(8, 16, 3, 3, dtype=torch.float64)
    kernel = winograd_kernel(weight)
    shapes = []
    original = torch.bmm

    def recording(a, b):
        shapes.append((tuple(a.shape), tuple(b.shape)))
        return original(a, b)

    monkeypatch.setattr(torch, 'bmm', recording)
    batched = winograd_conv3x3(x, kernel, None)
    assert shapes == [((36, 8, 16), (36, 16, 3 * 3 * 2))]
    for i in range(3):
        torch.testing.assert_close(batched[i:i + 1], winograd_conv3x3(x[i:i + 1], kernel, None),
                                   rtol=1e-12, atol=1e-12)
