"""The PSNR and SSIM functions of the authors' MATLAB scripts, in numpy/scipy float64.

* :func:`ssim_index`: the scripts' own ``SSIM_index`` (Zhou Wang's 2003 reference code): an
  11x11 Gaussian window (σ = 1.5, ``fspecial``, normalised), ``filter2(..., 'valid')``,
  C1 = (0.01·255)², C2 = (0.03·255)², the mean of the map. Certain: the code is in the scripts.
* :func:`psnr_255`: the scripts' ``compute_psnr``: ``20·log10(255 / RMSE)`` on doubles.
* :func:`matlab_psnr` / :func:`matlab_ssim`: MATLAB's built-in ``psnr`` and ``ssim`` on double
  images (ISTD scripts). For doubles the peak / dynamic range is 1 (``getrangefromclass``).
  ``ssim``: Gaussian σ = 1.5 of size ``2·ceil(3σ)+1`` = 11, ``'replicate'`` padding, a map of
  the image's own size, its mean. An (H, W, 3) array is, by default, three *spatial* dimensions
  (DataFormat 'SSS': an 11x11x11 Gaussian over rows, columns and the 3 channels with replicate
  padding), as MathWorks documents; ``rgb='volume'`` is that. ``rgb='per_channel'`` is
  DataFormat 'SSC' (2-D SSIM per channel, averaged), named in case a MATLAB release did so.
"""
import math

import numpy as np

SSIM_RGB_MODES = ('volume', 'per_channel')


def gaussian_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """A normalised 1-D Gaussian; its outer product is ``fspecial('gaussian', size, sigma)``."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-x * x / (2 * sigma * sigma))
    return g / g.sum()


def _filter(image: np.ndarray, axes, mode: str, size: int = 11,
            sigma: float = 1.5) -> np.ndarray:
    from scipy.ndimage import correlate1d  # scipy: optional until a protocol runs
    g = gaussian_1d(size, sigma)
    out = image
    for axis in axes:
        out = correlate1d(out, g, axis=axis, mode=mode)
    return out


def _ssim_map(x: np.ndarray, y: np.ndarray, blur, dynamic_range: float) -> np.ndarray:
    """Wang et al.'s SSIM map with the local statistics taken by ``blur`` (K 0.01 / 0.03)."""
    c1, c2 = (0.01 * dynamic_range) ** 2, (0.03 * dynamic_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))


def ssim_index(img1: np.ndarray, img2: np.ndarray) -> float:
    """``SSIM_index(img1, img2)`` of two (H, W) images on the 0-255 scale ('valid' map mean)."""
    x, y = np.asarray(img1, np.float64), np.asarray(img2, np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f'ssim_index compares two (H, W) images of one size, got {x.shape} '
                         f'and {y.shape}.')
    if min(x.shape) < 11:
        raise ValueError(f'SSIM_index needs images of at least 11x11, got {x.shape}.')
    def valid(image):  # 'reflect' then crop: the border rows never enter the kept part
        return _filter(image, (0, 1), 'reflect')[5:-5, 5:-5]

    return float(_ssim_map(x, y, valid, 255.0).mean())


def psnr_255(img1: np.ndarray, img2: np.ndarray) -> float:
    """``20·log10(255 / RMSE)`` (the scripts' ``compute_psnr``); inf for identical images."""
    diff = np.asarray(img1, np.float64) - np.asarray(img2, np.float64)
    rmse = math.sqrt(float(np.mean(diff * diff)))
    return math.inf if rmse == 0 else 20 * math.log10(255 / rmse)


def matlab_psnr(a: np.ndarray, ref: np.ndarray, peak: float = 1.0) -> float:
    """MATLAB ``psnr(A, ref)`` for doubles: ``10·log10(peak² / mean((A - ref)²))``."""
    diff = np.asarray(a, np.float64) - np.asarray(ref, np.float64)
    mse = float(np.mean(diff * diff))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def matlab_ssim(a: np.ndarray, ref: np.ndarray, rgb: str = 'volume',
                dynamic_range: float = 1.0) -> float:
    """MATLAB ``ssim(A, ref)`` for doubles (H, W) or (H, W, C); see the module doc for ``rgb``."""
    if rgb not in SSIM_RGB_MODES:
        raise ValueError(f'matlab_ssim: rgb must be one of {SSIM_RGB_MODES}, got {rgb!r}.')
    x, y = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    if x.shape != y.shape:
        raise ValueError(f'matlab_ssim: the images differ in size ({x.shape} vs {y.shape}).')
    if x.ndim == 3 and rgb == 'per_channel':
        return float(np.mean([matlab_ssim(x[..., c], y[..., c], 'volume', dynamic_range)
                              for c in range(x.shape[2])]))
    axes = tuple(range(x.ndim))

    def blur(image):
        return _filter(image, axes, 'nearest')  # 'nearest' is MATLAB's 'replicate'

    return float(_ssim_map(x, y, blur, dynamic_range).mean())
