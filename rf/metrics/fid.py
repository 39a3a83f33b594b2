"""Fréchet Inception distance (Heusel et al. 2017) between all predictions and all ground truths.

``FID = ||μ1 - μ2||² + Tr(Σ1) + Tr(Σ2) - 2 Tr((Σ1 Σ2)^½)`` over the Inception-v3 pool3 features
(:mod:`rf.metrics.fid_inception`) of the two sets, with the sample mean and the unbiased sample
covariance (``np.cov``), in float64.

The trace of the matrix square root is computed as ``Σ_i √λ_i`` over the eigenvalues of the
symmetric positive semi-definite ``Σ1^½ Σ2 Σ1^½`` (similar to ``Σ1 Σ2``, so the eigenvalues are
the same), with ``numpy.linalg.eigh``. This equals pytorch-fid's ``scipy.linalg.sqrtm`` result on
well-conditioned covariances, and unlike ``sqrtm`` of the non-symmetric product it never produces
complex values or NaN when the covariances are singular (fewer images than 2048 features, the
usual case for restoration test sets). Tiny negative eigenvalues from rounding are clipped to 0.

Distributed evaluation: every rank stores its samples' features in ``self.results``; MMEngine
gathers them, and rank 0 computes the distance over the whole set.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from rf.metrics.image_quality import to_uint8
from rf.metrics.pretrained_weights import PathOrPaths
from rf.registry import METRICS

__all__ = ['FID', 'frechet_distance', 'feature_statistics', 'trace_sqrt_product']


def feature_statistics(features: np.ndarray):
    """Mean and unbiased covariance of (N, D) features, in float64."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((Σ1 Σ2)^½)`` for symmetric positive semi-definite ``Σ1``, ``Σ2`` (float64)."""
    root = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    inner = root @ np.asarray(sigma2, dtype=np.float64) @ root
    values = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(values, 0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """The Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2); never below 0."""
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f'frechet_distance: the two Gaussians differ in dimension '
                         f'({mu1.shape} vs {mu2.shape}, {sigma1.shape} vs {sigma2.shape}).')
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2 * trace_sqrt_product(sigma1, sigma2))
    return max(float(value), 0.0)


@METRICS.register_module()
class FID(BaseMetric):
    """FID between the set of all ``pred_img`` and the set of all ``gt`` of the evaluation.

    Args:
        weights: the Inception weight file (see :mod:`rf.metrics.fid_inception`); None reads
            ``RF_INCEPTION_WEIGHTS``. A missing file stops the build with one clear error.
        device: where Inception runs; None follows the predictions (GPU when they are there).

    Images are quantised to uint8 (as saved PNGs would be) before the features are taken.
    Key ``FID``; lower is better. Needs at least two images per set; published FIDs use many
    thousands (the estimate is biased upwards for small sets).
    """

    default_prefix = ''

    def __init__(self, weights: PathOrPaths = None, device: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        from rf.metrics.fid_inception import load_inception  # imports torchvision
        self.network = load_inception(weights)
        self.device = device

    def _features(self, images: List[torch.Tensor], device) -> np.ndarray:
        batch = []
        for image in images:
            image = to_uint8(image) if image.is_floating_point() else image.cpu()
            if image.shape[0] == 1:
                image = image.expand(3, -1, -1)
            if image.shape[0] != 3:
                raise ValueError(f'FID needs RGB or grey images; got {image.shape[0]} channels.')
            # Resized one by one: images of one batch may differ in size.
            batch.append(self.network.resize(image.to(device, torch.float32)[None] / 255))
        with torch.no_grad():
            return self.network(torch.cat(batch)).cpu().numpy().astype(np.float32)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'pred_img' not in sample or 'gt' not in sample:
                raise KeyError(f"FID needs 'pred_img' and 'gt' in each data sample; got keys "
                               f'{sorted(sample)}.')
        if not data_samples:
            return
        device = torch.device(self.device) if self.device else data_samples[0]['pred_img'].device
        self.network.to(device)
        preds = self._features([s['pred_img'] for s in data_samples], device)
        gts = self._features([s['gt'] for s in data_samples], device)
        self.results.extend(dict(pred=p, gt=g) for p, g in zip(preds, gts))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if len(results) < 2:
            raise ValueError(f'FID needs at least 2 images per set to estimate a covariance; '
                             f'the evaluation had {len(results)}.')
        mu1, sigma1 = feature_statistics(np.stack([r['pred'] for r in results]))
        mu2, sigma2 = feature_statistics(np.stack([r['gt'] for r in results]))
        return {'FID': frechet_distance(mu1, sigma1, mu2, sigma2)}
