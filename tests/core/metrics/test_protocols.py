"""The evaluation protocols against independent references computed here (skimage for ``lol``;
rf.metrics.functional's separately written PSNR, SSIM and luma for the MATLAB-script ones), the
shared code path of ProtocolMetric and folder scoring, quantisation and the registry."""
import math

import numpy as np
import pytest
import torch

from rf.datasets.image_io import write_rgb
from rf.metrics import functional
from rf.metrics.folder_scoring import score_folders
from rf.metrics.protocol_metric import ProtocolMetric
from rf.metrics.protocols import EvalProtocol, UnknownProtocolError, build_protocol, protocol_names, quantize


def pair(shape=(64, 80), seed=0, noise=25):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, (*shape, 3)).astype(np.uint8)
    smooth = (gt.astype(float) + np.roll(gt, 1, 0) + np.roll(gt, 1, 1)) / 3
    pred = np.clip(smooth + rng.normal(0, noise, gt.shape), 0, 255).astype(np.uint8)
    return pred, gt


def as_chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)


def test_all_paper_protocols_are_registered():
    assert {'lol', 'lol_256', 'lol_gtmean', 'raindrop', 'raindrop_256', 'istd',
            'istd_256'} <= set(protocol_names())
    with pytest.raises(UnknownProtocolError, match="'lol256'.*lol_256"):
        build_protocol('lol256')


def test_lol_is_skimage_psnr_and_per_channel_ssim():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    pred, gt = pair()
    scores = build_protocol('lol').score(pred, gt)
    assert scores['PSNR'] == pytest.approx(peak_signal_noise_ratio(gt, pred, data_range=255))
    per_channel = [structural_similarity(gt[..., c], pred[..., c], data_range=255)
                   for c in range(3)]
    assert scores['SSIM'] == pytest.approx(np.mean(per_channel))
    assert math.isinf(build_protocol('lol').score(gt, gt)['PSNR'])


def y_reference(pred, gt):
    """Luma rounded to uint8, PSNR and Gaussian 'valid' SSIM from rf.metrics.functional."""
    def y(image):
        return torch.floor(functional.rgb_to_y(as_chw(image)) + 0.5)
    return functional.psnr(y(pred), y(gt)), functional.ssim(y(pred), y(gt))


def test_lol_256_at_256_is_y_psnr_and_wang_ssim():
    pred, gt = pair((256, 256))  # no resize at this size: the Y scores alone
    scores = build_protocol('lol_256').score(pred, gt)
    psnr, ssim = y_reference(pred, gt)
    assert scores['PSNR'] == pytest.approx(psnr, abs=1e-9)
    assert scores['SSIM'] == pytest.approx(ssim, abs=1e-9)


def test_raindrop_resizes_the_ground_truth_to_the_prediction():
    pred, gt = pair((48, 64), seed=1)
    scores = build_protocol('raindrop').score(pred, gt)
    psnr, ssim = y_reference(pred, gt)
    assert scores['PSNR'] == pytest.approx(psnr, abs=1e-9)
    assert scores['SSIM'] == pytest.approx(ssim, abs=1e-9)
    larger = np.repeat(np.repeat(gt, 2, axis=0), 2, axis=1)  # gt at twice the size
    resized = build_protocol('raindrop').score(pred, larger)
    from rf.metrics.matlab_imresize import imresize
    psnr, ssim = y_reference(pred, imresize(larger, pred.shape[:2]))
    # (a luma exactly halfway between two levels may round apart in the two float orders)
    assert (resized['PSNR'], resized['SSIM']) == pytest.approx((psnr, ssim), rel=1e-4)
    with pytest.raises(ValueError, match='differ in size'):
        build_protocol('lol').score(pred, larger)


def shadow_mask(shape, box=(10, 40, 15, 55)):
    mask = np.zeros(shape, np.uint8)
    mask[box[0]:box[1], box[2]:box[3]] = 255
    return mask


def test_istd_region_psnr_is_the_psnr_of_the_masked_frames():
    pred, gt = pair((48, 64), seed=2)
    mask = shadow_mask(gt.shape[:2])
    scores = build_protocol('istd').score(pred, gt, mask)
    keep = torch.from_numpy(mask != 0)
    p, g = as_chw(pred).double(), as_chw(gt).double()
    assert scores['PSNR'] == pytest.approx(functional.psnr(p, g))
    assert scores['PSNR_shadow'] == pytest.approx(functional.psnr(p * keep, g * keep))
    assert scores['PSNR_nonshadow'] == pytest.approx(functional.psnr(p * ~keep, g * ~keep))
    # The scripts count any non-zero mask value as shadow, not only 255.
    faint = np.where(mask > 0, 3, 0).astype(np.uint8)
    assert build_protocol('istd').score(pred, gt, faint)['PSNR_shadow'] == \
        pytest.approx(scores['PSNR_shadow'])


def test_istd_mae_per_image_and_pooled():
    protocol = build_protocol(dict(type='istd', lab_white='d65'))
    from skimage.color import rgb2lab
    results = []
    for seed, box in ((3, (5, 20, 5, 20)), (4, (0, 40, 0, 60))):
        pred, gt = pair((48, 64), seed=seed)
        mask = shadow_mask(gt.shape[:2], box)
        result = protocol.score(pred, gt, mask)
        distance = np.abs(rgb2lab(gt / 255.0) - rgb2lab(pred / 255.0)).sum(axis=2)
        shadow = mask != 0
        assert result['MAE_shadow'] == pytest.approx(distance[shadow].mean(), rel=2e-3)
        assert result['MAE_all'] == pytest.approx(distance.mean(), rel=2e-3)
        results.append((result, distance[shadow].sum(), shadow.sum()))
    summary = protocol.summarize([r for r, _, _ in results])
    pooled = sum(s for _, s, _ in results) / sum(n for _, _, n in results)
    assert summary['MAE_PP_shadow'] == pytest.approx(pooled, rel=2e-3)
    assert summary['MAE_shadow'] == pytest.approx(
        np.mean([r['MAE_shadow'] for r, _, _ in results]))
    assert abs(summary['MAE_PP_shadow'] - summary['MAE_shadow']) > 1e-3


def test_istd_256_mask_grows_with_the_bicubic_resize():
    pred, gt = pair((96, 128), seed=5)
    mask = shadow_mask(gt.shape[:2], (30, 60, 40, 90))
    scores = build_protocol('istd_256').score(pred, gt, mask)
    assert set(scores) >= {'PSNR', 'PSNR_shadow', 'SSIM_nonshadow', 'MAE_shadow'}
    from rf.metrics.matlab_imresize import imresize
    resized = imresize(mask, (256, 256))
    nearest = mask[np.arange(256) * 96 // 256][:, np.arange(256) * 128 // 256]
    assert (resized != 0).sum() > (nearest != 0).sum()
    with pytest.raises(ValueError, match='mask'):
        build_protocol('istd').score(pred, gt, None)


def test_gt_mean_scales_the_prediction_to_the_ground_truths_brightness():
    pred, gt = pair(seed=6, noise=5)
    dark = (pred * 0.5).astype(np.uint8)
    plain = build_protocol('lol').score(dark, gt)
    matched = build_protocol('lol_gtmean').score(dark, gt)
    assert matched['PSNR'] > plain['PSNR'] + 3


def test_quantize_floor_is_truncation_and_round_is_nearest():
    image = torch.tensor([100.7, 0.2, 254.99, 300.0, -4.0]).view(1, 1, 5) / 255
    assert quantize(image, 'floor')[0, :, 0].tolist() == [100, 0, 254, 255, 0]
    assert quantize(image, 'round')[0, :, 0].tolist() == [101, 0, 255, 255, 0]
    exact = torch.arange(256, dtype=torch.float32).view(1, 1, 256) / 255
    assert quantize(exact, 'round')[0, :, 0].tolist() == list(range(256))


@pytest.mark.parametrize('protocol', ['lol', 'lol_256', 'raindrop', 'istd_256'])
def test_metric_and_folder_scoring_give_the_same_numbers(tmp_path, protocol):
    samples, batch_masks = [], []
    for index in range(3):
        pred, gt = pair((64, 72), seed=10 + index)
        pred_float = (as_chw(pred).float() + 0.6) / 255  # floor recovers pred exactly
        mask = shadow_mask(gt.shape[:2], (5 + index, 30, 10, 50))
        samples.append(dict(pred_img=pred_float, gt=as_chw(gt).float() / 255))
        batch_masks.append(torch.from_numpy(mask)[None])
        for folder, image in (('pred', pred), ('gt', gt), ('mask', np.repeat(mask[..., None], 3,
                                                                            axis=2))):
            write_rgb(image, str(tmp_path / folder / f'{index}.png'))
    metric = ProtocolMetric(protocol=protocol)
    metric.process(dict(inputs=dict(mask=batch_masks)), samples)
    from_metric = metric.compute_metrics(metric.results)
    folders = score_folders(str(tmp_path / 'pred'), str(tmp_path / 'gt'), protocol,
                            mask_dir=str(tmp_path / 'mask'), lpips=False)
    assert folders['n'] == 3
    for key, value in folders['summary'].items():
        assert from_metric[f'{key}@{protocol}'] == pytest.approx(value, abs=1e-12)


def test_a_plugin_can_register_a_protocol():
    from rf.registry import EVAL_PROTOCOLS

    class MeanAbsoluteError(EvalProtocol):
        name = 'test_mae'
        follows = 'a test'

        def score(self, pred, gt, mask=None):
            return {'MAE': float(np.abs(pred.astype(int) - gt.astype(int)).mean())}

    EVAL_PROTOCOLS.register_module(name='test_mae', module=MeanAbsoluteError)
    try:
        metric = ProtocolMetric(protocol='test_mae', quantize='round')
        gt = torch.zeros(3, 8, 8)
        metric.process({}, [dict(pred_img=gt + 2 / 255, gt=gt)])
        assert metric.compute_metrics(metric.results) == {'MAE@test_mae': 2.0}
    finally:
        EVAL_PROTOCOLS.module_dict.pop('test_mae')


def test_metric_reports_the_inputs_row_and_names_missing_masks():
    pred, gt = pair(seed=20)
    metric = ProtocolMetric(protocol='lol', source='input')
    metric.process(dict(inputs=dict(degraded=[as_chw(pred)])), [dict(gt=as_chw(gt))])
    assert set(metric.compute_metrics(metric.results)) == {'PSNR_input@lol', 'SSIM_input@lol'}
    with pytest.raises(KeyError, match='mask'):
        ProtocolMetric(protocol='istd').process({}, [dict(pred_img=as_chw(pred), gt=as_chw(gt))])
    with pytest.raises(ValueError, match='quantize'):
        ProtocolMetric(quantize='ceil')
