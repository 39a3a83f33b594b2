"""Evaluation metrics (MMEngine ``BaseMetric`` s) and the formulas behind them."""
from rf.metrics.image_quality import MAE, PSNR, SSIM

__all__ = ['PSNR', 'SSIM', 'MAE']
