"""Metrics against independent references (scikit-image) on random images."""
import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from rf.metrics import functional
from rf.registry import METRICS


def random_pair(seed, shape=(3, 40, 33)):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, shape, dtype=np.uint8)
    noisy = np.clip(gt.astype(int) + rng.integers(-40, 41, shape), 0, 255).astype(np.uint8)
    return torch.from_numpy(noisy), torch.from_numpy(gt)


def hwc(t):
    return t.permute(1, 2, 0).numpy()


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_psnr_and_ssim_match_scikit_image(seed):
    pred, gt = random_pair(seed)
    assert functional.psnr(pred, gt) == pytest.approx(
        peak_signal_noise_ratio(hwc(gt), hwc(pred), data_range=255), rel=1e-10)
    reference = structural_similarity(hwc(gt).astype(float), hwc(pred).astype(float), data_range=255,
                                      channel_axis=2, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False)
    assert functional.ssim(pred, gt) == pytest.approx(reference, rel=1e-9)


def test_y_channel_is_bt601():
    pred, _ = random_pair(3)
    expected = rgb2ycbcr(hwc(pred))[..., 0]
    np.testing.assert_allclose(functional.rgb_to_y(pred)[0].numpy(), expected, rtol=1e-12)


def test_metric_protocols_through_mmengine_interface():
    pred, gt = random_pair(4, (3, 300, 260))
    sample = {'pred_img': pred.float() / 255, 'gt': gt}
    results = {}
    for cfg in (dict(type='PSNR'), dict(type='PSNR', channel='y'), dict(type='SSIM', resize=256),
                dict(type='MAE')):
        metric = METRICS.build(cfg)
        metric.process(None, [sample, sample])
        results.update(metric.compute_metrics(metric.results))
    assert set(results) == {'PSNR', 'PSNR_Y', 'SSIM_256', 'MAE'}
    assert results['PSNR'] == pytest.approx(functional.psnr(pred, gt), rel=1e-10)
    y_ref = peak_signal_noise_ratio(rgb2ycbcr(hwc(gt))[..., 0], rgb2ycbcr(hwc(pred))[..., 0],
                                    data_range=255)
    assert results['PSNR_Y'] == pytest.approx(y_ref, rel=1e-10)
    assert results['MAE'] == pytest.approx(np.abs(hwc(pred).astype(float) - hwc(gt)).mean())
    assert 0 < results['SSIM_256'] < 1


def test_identical_images_and_clear_errors():
    _, gt = random_pair(5)
    assert functional.psnr(gt, gt) == math.inf and functional.ssim(gt, gt) == pytest.approx(1.0)
    metric = METRICS.build(dict(type='PSNR'))
    with pytest.raises(ValueError, match='differ in shape'):
        metric.process(None, [{'pred_img': gt.float() / 255, 'gt': gt[:, :10]}])
    with pytest.raises(KeyError, match="'pred_img'"):
        metric.process(None, [{'gt': gt}])
    with pytest.raises(ValueError, match='channel'):
        METRICS.build(dict(type='PSNR', channel='lab'))


def test_input_source_scores_the_degraded_input():
    pred, gt = random_pair(5)
    degraded, _ = random_pair(6)
    metric = METRICS.build(dict(type='PSNR', source='input'))
    metric.process({'inputs': {'degraded': [degraded]}}, [{'pred_img': pred, 'gt': gt}])
    result = metric.compute_metrics(metric.results)
    assert list(result) == ['PSNR_input']
    assert result['PSNR_input'] == pytest.approx(
        peak_signal_noise_ratio(hwc(gt), hwc(degraded), data_range=255), rel=1e-10)
    with pytest.raises(ValueError, match='source'):
        METRICS.build(dict(type='PSNR', source='gt'))
