"""MATLAB built-ins of the authors' evaluation scripts, against values derived by hand from
their documented algorithms (imresize weights and borders, uint8 rounding, rgb2ycbcr, psnr,
ssim) and against independent implementations (rf.metrics.functional, skimage)."""
import math

import numpy as np
import pytest
import torch

from rf.metrics import functional
from rf.metrics.matlab_color import rgb2ycbcr_y, srgb2lab
from rf.metrics.matlab_imresize import contributions, imresize, round_half_away, to_uint8
from rf.metrics.matlab_quality import matlab_psnr, matlab_ssim, psnr_255, ssim_index


def keys_cubic(x):
    """Keys' cubic (a = -0.5) written out for the hand derivations below."""
    x = abs(x)
    if x <= 1:
        return 1.5 * x ** 3 - 2.5 * x ** 2 + 1
    if x <= 2:
        return -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2
    return 0.0


def test_halving_weights_are_the_widened_kernel_with_mirrored_borders():
    # 4 -> 2 pixels: scale 1/2, kernel 0.5·cubic(x/2) of width 8; output 1 sits at u = 1.5, so
    # its taps are input pixels -2..5 (1-based) at distances 3.5 ... -3.5, and the indices
    # outside 1..4 mirror: [-2, -1, 0, 5] -> [3, 2, 1, 4].
    weights, indices = contributions(4, 2, 0.5)
    expected = [0.5 * keys_cubic(d / 2) for d in (3.5, 2.5, 1.5, 0.5, -0.5, -1.5, -2.5, -3.5)]
    assert np.allclose(weights[0], expected, atol=1e-15)
    assert sum(expected) == pytest.approx(1.0)
    assert indices[0].tolist() == [2, 1, 0, 0, 1, 2, 3, 3]  # 0-based
    # So output 1 = 0.546875 a + 0.3984375 b + 0.1015625 c - 0.046875 d, exactly.
    row = np.array([[10.0, 20.0, 30.0, 40.0]])
    assert imresize(row, (1, 2)).tolist() == [[14.609375, 35.390625]]
    assert imresize(row.astype(np.uint8), (1, 2)).tolist() == [[15, 35]]


def test_enlarging_uses_the_plain_kernel_and_keeps_float_overshoot():
    # 2 -> 4: u = x/2 + 1/4; output 1 at u = 0.75 is 1.09375·x1 - 0.09375·x2 after mirroring.
    out = imresize(np.array([[0.0, 100.0]]), (1, 4))
    assert out[0, 0] == pytest.approx(-9.375)
    assert out[0, 0] == pytest.approx(
        100 * (keys_cubic(1.75) + keys_cubic(1.25)) / sum(keys_cubic(d) for d in
                                                          (1.75, 0.75, 0.25, 1.25)))
    # The same in uint8 saturates at 0 instead of going negative.
    assert imresize(np.array([[0, 100]], np.uint8), (1, 4))[0, 0] == 0


def test_without_antialiasing_shrinking_keeps_the_narrow_kernel():
    weights, _ = contributions(4, 2, 0.5, antialiasing=False)
    # u = 1.5: distances 1.5, 0.5, -0.5, -1.5 to pixels 0..3, zero columns dropped.
    assert np.allclose(weights[0], [keys_cubic(1.5), keys_cubic(0.5), keys_cubic(0.5),
                                    keys_cubic(1.5)])


def test_identity_constant_and_uint8_properties():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    assert np.array_equal(imresize(image, (37, 53)), image)
    flat = np.full((40, 30, 3), 77, np.uint8)
    assert np.unique(imresize(flat, (17, 50))).tolist() == [77]
    floats = imresize(image.astype(np.float64), (16, 20))
    rounded_once = imresize(image, (16, 20), intermediate='float')
    assert np.array_equal(rounded_once, to_uint8(floats))
    # Rounding after the first pass moves a result by at most one grey level.
    assert np.abs(imresize(image, (16, 20)).astype(int) - rounded_once.astype(int)).max() <= 1


def test_matlab_rounding_takes_halves_away_from_zero():
    assert round_half_away(np.array([0.5, 1.5, 2.5, -0.5, 2.49])).tolist() == [1, 2, 3, -1, 2]
    assert to_uint8(np.array([-3.0, 254.5, 300.0])).tolist() == [0, 255, 255]


def test_rgb2ycbcr_luma_on_uint8():
    pixels = np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]],
                      np.uint8)
    # 16 + (65.481 R + 128.553 G + 24.966 B)/255: 235, 16, 81.481, 144.553, 40.966.
    assert rgb2ycbcr_y(pixels).tolist() == [[235, 16, 81, 145, 41]]
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    reference = functional.rgb_to_y(torch.from_numpy(image).permute(2, 0, 1))[0].numpy()
    assert np.abs(rgb2ycbcr_y(image) - np.floor(reference + 0.5)).max() == 0


def test_ssim_index_matches_an_independent_implementation_and_hand_values():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (40, 50)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    reference = functional.ssim(torch.from_numpy(a), torch.from_numpy(b))
    assert ssim_index(a, b) == pytest.approx(reference, abs=1e-12)
    assert ssim_index(a, a) == pytest.approx(1.0)
    # Two flat images: no variance, so SSIM is the luminance term alone.
    c1 = (0.01 * 255) ** 2
    flat = ssim_index(np.full((20, 20), 100.0), np.full((20, 20), 110.0))
    assert flat == pytest.approx((2 * 100 * 110 + c1) / (100 ** 2 + 110 ** 2 + c1))
    with pytest.raises(ValueError, match='11x11'):
        ssim_index(np.zeros((10, 30)), np.zeros((10, 30)))


def test_psnr_forms():
    assert matlab_psnr(np.full((4, 4, 3), 0.5), np.full((4, 4, 3), 0.6)) == pytest.approx(20.0)
    assert psnr_255(np.zeros((3, 3)), np.full((3, 3), 25.5)) == pytest.approx(20.0)
    assert math.isinf(psnr_255(np.ones((3, 3)), np.ones((3, 3))))


def test_matlab_ssim_volume_mixes_channels_with_replicate_padding():
    # Flat planes: per channel, SSIM is the luminance term; as a volume, each channel's mean
    # is a replicate-padded Gaussian mix of the three planes along the third axis.
    a_values, b_values = (0.2, 0.5, 0.9), (0.3, 0.5, 0.6)
    a = np.ones((24, 24, 3)) * np.array(a_values)
    b = np.ones((24, 24, 3)) * np.array(b_values)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    per_channel = np.mean([(2 * x * y + c1) / (x * x + y * y + c1)
                           for x, y in zip(a_values, b_values)])
    assert matlab_ssim(a, b, rgb='per_channel') == pytest.approx(per_channel, abs=1e-12)
    g = np.exp(-np.arange(-5, 6) ** 2 / (2 * 1.5 ** 2))
    g /= g.sum()
    mix = np.zeros((3, 3))
    for c in range(3):
        for k in range(-5, 6):
            mix[c, min(max(c + k, 0), 2)] += g[k + 5]
    values = []
    for c in range(3):
        w = mix[c]
        mx, my = w @ a_values, w @ b_values
        vx = w @ np.square(a_values) - mx * mx
        vy = w @ np.square(b_values) - my * my
        cov = w @ (np.array(a_values) * b_values) - mx * my
        values.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1)
                                                             * (vx + vy + c2)))
    assert matlab_ssim(a, b) == pytest.approx(np.mean(values), abs=1e-12)
    assert abs(matlab_ssim(a, b) - per_channel) > 1e-4  # the two readings really differ
    grey = np.repeat(np.random.default_rng(3).random((30, 30, 1)), 3, axis=2)
    noisy = np.clip(grey + 0.05, 0, 1)
    assert matlab_ssim(grey, noisy) == pytest.approx(matlab_ssim(grey, noisy, 'per_channel'))


def test_srgb2lab_whites_and_skimage():
    from skimage.color import rgb2lab
    white, grey = np.ones((1, 1, 3)), np.full((1, 1, 3), 0.5)
    for mode in ('icc_d50', 'd65'):
        assert np.allclose(srgb2lab(white, mode)[0, 0], [100, 0, 0], atol=1e-9)
        assert np.allclose(srgb2lab(grey, mode)[0, 0, 1:], 0, atol=1e-9)
        assert np.allclose(srgb2lab(np.zeros((1, 1, 3)), mode), 0, atol=1e-12)
    image = np.random.default_rng(4).random((8, 8, 3))
    assert np.abs(srgb2lab(image, 'd65') - rgb2lab(image)).max() < 0.05
    red = np.array([[[1.0, 0.0, 0.0]]])
    assert np.abs(srgb2lab(red, 'icc_d50') - srgb2lab(red, 'd65')).max() > 0.5
