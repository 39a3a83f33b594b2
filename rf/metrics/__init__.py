"""Evaluation metrics (MMEngine ``BaseMetric`` s) and the formulas behind them.

Metrics named after a dataset live in its plugin (ISTD's ``ShadowRegionMetrics``:
:mod:`rf_plugins.datasets.istd`), registered in :data:`rf.registry.METRICS` when plugins load.
"""
from rf.metrics.fid import FID
from rf.metrics.image_quality import MAE, PSNR, SSIM
from rf.metrics.lpips import LPIPS
from rf.metrics.protocol_metric import ProtocolMetric

__all__ = ['PSNR', 'SSIM', 'MAE', 'LPIPS', 'FID', 'ProtocolMetric']
