"""Evaluation metrics (MMEngine ``BaseMetric`` s) and the formulas behind them."""
from rf.metrics.fid import FID
from rf.metrics.image_quality import MAE, PSNR, SSIM
from rf.metrics.lpips import LPIPS
from rf.metrics.protocol_metric import ProtocolMetric
from rf.metrics.shadow_regions import ShadowRegionMetrics

__all__ = ['PSNR', 'SSIM', 'MAE', 'LPIPS', 'FID', 'ShadowRegionMetrics',
           'ProtocolMetric']
