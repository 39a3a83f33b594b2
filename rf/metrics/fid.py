"""Fréchet Inception distance (Heusel et al. 2017) as torchmetrics computes it (MMEngine metric).

The features come from the Inception of torchmetrics' ``FrechetInceptionDistance(feature=2048,
normalize=True)``, which the paper's authors used (torch-fidelity's port of the TensorFlow FID
network; ``weights-inception-2015-12-05-6726825d.pth`` from torch hub's cache, downloaded on first
use, see :mod:`rf.metrics.pretrained_weights`). The distance repeats that metric's arithmetic
(float64 feature sums, unbiased covariance) and calls its ``_compute_fid``, so the value equals
``FrechetInceptionDistance`` updated with the same images (ground truths real, predictions fake).

Distributed evaluation: each rank stores its samples' features in ``self.results``; MMEngine
gathers them, and rank 0 computes the distance over the whole set.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from rf.metrics.image_quality import COLLECT_DEVICE, to_uint8
from rf.metrics.pretrained_weights import ensure_hub_weights, loading_weights
from rf.registry import METRICS

__all__ = ['FID', 'build_fid_inception', 'fid_from_features', 'INCEPTION_FILE', 'INCEPTION_URL']

INCEPTION_FILE = 'weights-inception-2015-12-05-6726825d.pth'
INCEPTION_URL = ('https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/'
                 + INCEPTION_FILE)  # torch_fidelity.feature_extractor_inceptionv3.URL_INCEPTION_V3


def build_fid_inception(device=None) -> torch.nn.Module:
    """The feature network of ``FrechetInceptionDistance(feature=2048, normalize=True)``.

    It takes uint8 (N, 3, H, W) images (resized to 299x299 inside) and returns (N, 2048)
    features. Raises :class:`~rf.metrics.pretrained_weights.MissingWeightsError` when the
    weights are not in torch hub's cache and cannot be downloaded.
    """
    path = ensure_hub_weights(INCEPTION_FILE, INCEPTION_URL, 'FID')
    from torchmetrics.image.fid import FrechetInceptionDistance
    with loading_weights(path, 'FID'):
        inception = FrechetInceptionDistance(feature=2048, normalize=True).inception
    return inception if device is None else inception.to(device)


def _statistics(features: torch.Tensor):
    # FrechetInceptionDistance.compute: mean, and (Σ f fᵀ - n μ μᵀ) / (n - 1), in float64.
    count = features.shape[0]
    mean = (features.sum(dim=0) / count).unsqueeze(0)
    covariance = (features.t().mm(features) - count * mean.t().mm(mean)) / (count - 1)
    return mean.squeeze(0), covariance


def fid_from_features(pred: np.ndarray, gt: np.ndarray) -> float:
    """torchmetrics' FID between (N, 2048) features of the predictions and of the ground truths."""
    from torchmetrics.image.fid import _compute_fid
    fake = torch.as_tensor(np.asarray(pred)).double()
    real = torch.as_tensor(np.asarray(gt)).double()
    if min(len(fake), len(real)) < 2:
        raise ValueError(f'FID needs at least 2 images per set to estimate a covariance; the '
                         f'evaluation had {min(len(fake), len(real))}.')
    value = _compute_fid(*_statistics(real), *_statistics(fake))
    return float(value.float())  # torchmetrics returns the features' dtype, float32


@METRICS.register_module()
class FID(BaseMetric):
    """FID between the set of all ``pred_img`` and the set of all ``gt`` of the evaluation.

    Args:
        device: where Inception runs; None follows the predictions (GPU when they are there).
        chunk_size: at most this many images per Inception pass (CIFAR-10's validation batch of
            500 at 299x299 would need gigabytes of activations in one pass).

    Images are quantised to uint8 (as saved PNGs would be) before the features are taken.
    Key ``FID``; lower is better. Needs at least two images per set; published FIDs use many
    thousands (the estimate is biased upwards for small sets).
    """

    default_prefix = ''

    def __init__(self, device: Optional[str] = None, chunk_size: int = 64,
                 collect_device: str = COLLECT_DEVICE, prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if chunk_size < 1:
            raise ValueError(f'FID: chunk_size must be at least 1, got {chunk_size}.')
        self.inception = build_fid_inception()
        self.device = device
        self.chunk_size = int(chunk_size)

    def _features(self, images: List[torch.Tensor], device) -> np.ndarray:
        quantised = []
        for image in images:
            image = to_uint8(image) if image.is_floating_point() else image.cpu().to(torch.uint8)
            if image.shape[0] == 1:
                image = image.expand(3, -1, -1)
            if image.shape[0] != 3:
                raise ValueError(f'FID needs RGB or grey images; got {image.shape[0]} channels.')
            quantised.append(image)
        # One forward pass per run of equally sized images (a batch may mix sizes), at most
        # chunk_size images each.
        features, start = [], 0
        while start < len(quantised):
            end = start + 1
            while (end < len(quantised) and end - start < self.chunk_size
                   and quantised[end].shape == quantised[start].shape):
                end += 1
            with torch.no_grad():
                batch = torch.stack(quantised[start:end]).to(device)
                features.append(self.inception(batch).float().cpu())
            start = end
        return torch.cat(features).numpy()

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'pred_img' not in sample or 'gt' not in sample:
                raise KeyError(f"FID needs 'pred_img' and 'gt' in each data sample; got keys "
                               f'{sorted(sample)}.')
        if not data_samples:
            return
        device = torch.device(self.device) if self.device else data_samples[0]['pred_img'].device
        self.inception.to(device)
        preds = self._features([s['pred_img'] for s in data_samples], device)
        gts = self._features([s['gt'] for s in data_samples], device)
        self.results.extend(dict(pred=p, gt=g) for p, g in zip(preds, gts))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if len(results) < 2:
            raise ValueError(f'FID needs at least 2 images per set to estimate a covariance; '
                             f'the evaluation had {len(results)}.')
        return {'FID': fid_from_features(np.stack([r['pred'] for r in results]),
                                         np.stack([r['gt'] for r in results]))}
