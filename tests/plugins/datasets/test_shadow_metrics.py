"""ISTD metrics (plugins/datasets/istd/region_metrics.py, rf/metrics/region_scores.py,
rf/metrics/lab.py) against scikit-image."""
import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from rf.metrics.lab import rgb_to_lab
from rf.metrics.region_scores import region_psnr, region_ssim
from rf.registry import METRICS
from rf_plugins.datasets.istd.region_metrics import ShadowRegionMetrics, shadow_region

KEYS = {f'{kind}_{region}' for kind in ('PSNR', 'SSIM', 'MAE_LAB')
        for region in ('all', 'shadow', 'nonshadow')}


def pair_and_mask(seed, height=40, width=52, spread=40):
    """uint8 HWC prediction, ground truth and a 0/255 mask with a shadow blob."""
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
    pred = np.clip(gt.astype(int) + rng.integers(-spread, spread + 1, gt.shape), 0, 255)
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4: 3 * height // 4, width // 5: width // 2] = 255
    pred[mask == 255] = np.clip(pred[mask == 255] - 30, 0, 255)  # worse in the shadow
    return pred.astype(np.uint8), gt, mask


def chw(image):
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


def skimage_region_ssim(pred, gt, region):
    """skimage's full SSIM map (Gaussian, σ 1.5, population covariance), its 5-pixel border
    dropped as skimage's own mean does, channels averaged, then averaged over the region."""
    _, full = structural_similarity(gt, pred, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, data_range=255,
                                    channel_axis=-1, full=True)
    values = full[5:-5, 5:-5].mean(-1)
    return values[region[5:-5, 5:-5]].mean()


def skimage_lab_mae(pred, gt, region):
    diff = np.abs(rgb2lab(pred) - rgb2lab(gt))
    return diff[region].sum() / region.sum()


def reference_scores(pred, gt, mask, protocol='masked_frame'):
    """skimage's scores. 'masked_frame': the authors' MATLAB protocol, psnr and ssim of the
    whole frames pred·region and gt·region; 'region': over the region's pixels only."""
    regions = {'all': np.ones(mask.shape, bool), 'shadow': mask == 255, 'nonshadow': mask != 255}
    everything = regions['all']
    scores = {}
    for name, region in regions.items():
        if protocol == 'masked_frame':
            keep = region[..., None].astype(np.uint8)
            masked_pred, masked_gt = pred * keep, gt * keep
            scores[f'PSNR_{name}'] = peak_signal_noise_ratio(masked_gt, masked_pred,
                                                             data_range=255)
            scores[f'SSIM_{name}'] = skimage_region_ssim(masked_pred, masked_gt, everything)
        else:
            scores[f'PSNR_{name}'] = peak_signal_noise_ratio(gt[region], pred[region],
                                                             data_range=255)
            scores[f'SSIM_{name}'] = skimage_region_ssim(pred, gt, region)
        scores[f'MAE_LAB_{name}'] = skimage_lab_mae(pred, gt, region)
    return scores


def evaluate(metric, samples):
    """Feed ``[(pred uint8 HWC, gt, mask)]`` as the test loop does (float predictions in the
    data samples, raw uint8 masks in the batch) and return the metrics."""
    batch = {'inputs': {'mask': [torch.from_numpy(m)[None] for _, _, m in samples],
                        'degraded': [chw(p) for p, _, _ in samples]}}
    data_samples = [dict(pred_img=chw(p).float() / 255, gt=chw(g), img_id=str(i))
                    for i, (p, g, _) in enumerate(samples)]
    metric.process(batch, data_samples)
    return metric.compute_metrics(metric.results)


def test_lab_matches_skimage():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (17, 23, 3)).astype(np.uint8)
    image[0, :8] = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255],
                    [1, 2, 3], [10, 10, 10], [128, 128, 128]]  # extremes and the dark branch
    ours = rgb_to_lab(chw(image)).numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(ours, rgb2lab(image), atol=1e-8)


def test_region_formulas_match_skimage_and_the_whole_image_ones():
    pred, gt, mask = pair_and_mask(1)
    shadow = shadow_region(torch.from_numpy(mask))
    p, g = chw(pred), chw(gt)
    region = mask == 255
    assert region_psnr(p, g, shadow) == pytest.approx(
        peak_signal_noise_ratio(gt[region], pred[region], data_range=255), abs=1e-9)
    everything = torch.ones_like(shadow)
    assert region_psnr(p, g, everything) == pytest.approx(
        peak_signal_noise_ratio(gt, pred, data_range=255), abs=1e-9)
    assert region_ssim(p, g, everything) == pytest.approx(structural_similarity(
        gt, pred, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255, channel_axis=-1), abs=1e-9)
    assert region_ssim(p, g, shadow) == pytest.approx(skimage_region_ssim(pred, gt, region),
                                                      abs=1e-9)
    # The shadow region was made worse: the scores tell the regions apart.
    assert region_psnr(p, g, shadow) < region_psnr(p, g, ~shadow) - 3


def test_empty_regions_and_exact_regions():
    pred, gt, _ = pair_and_mask(2)
    nothing = torch.zeros(gt.shape[:2], dtype=torch.bool)
    assert math.isnan(region_psnr(chw(pred), chw(gt), nothing))
    assert math.isnan(region_ssim(chw(pred), chw(gt), nothing))
    border_only = nothing.clone()
    border_only[:3] = True  # inside the 5-pixel margin the 'valid' SSIM map does not cover
    assert math.isnan(region_ssim(chw(pred), chw(gt), border_only))
    assert region_psnr(chw(gt), chw(gt), ~nothing) == math.inf


@pytest.mark.parametrize('protocol', [None, 'masked_frame', 'region'])
def test_metric_reports_every_region_like_skimage(protocol):
    options = {} if protocol is None else dict(region_protocol=protocol)
    metric = METRICS.build(dict(type='ShadowRegionMetrics', **options))
    samples = [pair_and_mask(3), pair_and_mask(4, height=33, width=45, spread=10)]
    metrics = evaluate(metric, samples)
    assert set(metrics) == KEYS
    references = [reference_scores(*s, protocol=protocol or 'masked_frame') for s in samples]
    for key in KEYS:
        assert metrics[key] == pytest.approx(np.mean([r[key] for r in references]),
                                             rel=1e-9), key


@pytest.mark.parametrize('protocol', ['masked_frame', 'region'])
def test_256_protocol_resizes_images_bicubic_and_the_mask_nearest(protocol):
    import mmcv
    pred, gt, mask = pair_and_mask(5, height=37, width=61)
    metrics = evaluate(ShadowRegionMetrics(resize=256, region_protocol=protocol),
                       [(pred, gt, mask)])
    assert set(metrics) == {f'{key}_256' for key in KEYS}
    resized = [mmcv.imresize(x, (256, 256), interpolation='bicubic') for x in (pred, gt)]
    small_mask = mmcv.imresize(mask, (256, 256), interpolation='nearest')
    assert set(np.unique(small_mask)) == {0, 255}
    reference = reference_scores(*resized, small_mask, protocol=protocol)
    for key in KEYS:
        assert metrics[f'{key}_256'] == pytest.approx(reference[key], rel=1e-9), key


def test_pixel_pooling_pools_the_lab_error_over_the_test_set():
    samples = [pair_and_mask(6), pair_and_mask(7, height=60, width=20, spread=5)]
    metrics = evaluate(ShadowRegionMetrics(mae_pooling='pixel'), samples)
    assert {k for k in metrics if k.startswith('MAE')} == {
        'MAE_LAB_PP_all', 'MAE_LAB_PP_shadow', 'MAE_LAB_PP_nonshadow'}
    total = sum(np.abs(rgb2lab(p) - rgb2lab(g))[m == 255].sum() for p, g, m in samples)
    pixels = sum((m == 255).sum() for _, _, m in samples)
    assert metrics['MAE_LAB_PP_shadow'] == pytest.approx(total / pixels, rel=1e-9)
    per_image = evaluate(ShadowRegionMetrics(), samples)['MAE_LAB_shadow']
    assert abs(per_image - metrics['MAE_LAB_PP_shadow']) > 0.1  # the two poolings differ here


def test_an_image_without_shadow_is_left_out_of_the_shadow_mean():
    with_shadow = pair_and_mask(8)
    pred, gt, mask = pair_and_mask(9)
    without = (pred, gt, np.zeros_like(mask))
    both = evaluate(ShadowRegionMetrics(), [with_shadow, without])
    alone = evaluate(ShadowRegionMetrics(), [with_shadow])
    assert both['PSNR_shadow'] == pytest.approx(alone['PSNR_shadow'])
    assert both['MAE_LAB_shadow'] == pytest.approx(alone['MAE_LAB_shadow'])
    assert both['PSNR_all'] != pytest.approx(alone['PSNR_all'])
    assert math.isnan(evaluate(ShadowRegionMetrics(), [without])['SSIM_shadow'])


def test_input_source_scores_the_shadow_image():
    pred, gt, mask = pair_and_mask(10)
    metric = ShadowRegionMetrics(source='input')
    batch = {'inputs': {'mask': [torch.from_numpy(mask)[None]], 'degraded': [chw(pred)]}}
    metric.process(batch, [dict(gt=chw(gt))])  # no restoration needed
    metrics = metric.compute_metrics(metric.results)
    assert set(metrics) == {f'{key}_input' for key in KEYS}
    assert metrics['PSNR_shadow_input'] == pytest.approx(
        reference_scores(pred, gt, mask)['PSNR_shadow'])


def test_clear_errors():
    pred, gt, mask = pair_and_mask(11)
    metric = ShadowRegionMetrics()
    with pytest.raises(KeyError, match='mask'):
        metric.process({'inputs': {'degraded': [chw(pred)]}},
                       [dict(pred_img=chw(pred).float() / 255, gt=chw(gt))])
    with pytest.raises(ValueError, match='differ in size'):
        metric.process({'inputs': {'mask': [torch.from_numpy(mask[:-1])[None]]}},
                       [dict(pred_img=chw(pred).float() / 255, gt=chw(gt), img_id='x')])
    with pytest.raises(ValueError, match='mae_pooling'):
        ShadowRegionMetrics(mae_pooling='mean')
    with pytest.raises(ValueError, match='region_protocol'):
        ShadowRegionMetrics(region_protocol='matlab')


def test_masked_frame_psnr_is_the_region_psnr_plus_the_area_term():
    """The paper's shadow PSNR exceeds the true region PSNR by 10·log10(N / N_R): what a
    reader comparing with published ISTD tables must know."""
    pred, gt, mask = pair_and_mask(12)
    paper = evaluate(ShadowRegionMetrics(), [(pred, gt, mask)])
    region = evaluate(ShadowRegionMetrics(region_protocol='region'), [(pred, gt, mask)])
    for name, pixels in (('shadow', (mask == 255).sum()), ('nonshadow', (mask != 255).sum())):
        assert paper[f'PSNR_{name}'] == pytest.approx(
            region[f'PSNR_{name}'] + 10 * math.log10(mask.size / pixels), rel=1e-9)
        assert paper[f'SSIM_{name}'] > region[f'SSIM_{name}']  # zeroed pixels count as perfect
    assert paper['PSNR_all'] == region['PSNR_all'] and paper['SSIM_all'] == region['SSIM_all']
