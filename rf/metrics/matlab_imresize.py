"""MATLAB's ``imresize(A, [H W])`` with its defaults (bicubic, antialiasing), in numpy float64.

The authors' 256x256 scores (``evaluate_PSNR_SSIM_256.m``, the deraining and ISTD scripts) resize
with it, and its antialiasing moves LOL scores by up to 0.7 dB, so it is reproduced here from the
algorithm of MATLAB's ``imresize.m`` (documented in its help and source):

* scale per dimension ``s = out / in`` (an explicit output size gives each axis its own scale);
* Keys' cubic kernel with ``a = -0.5``; when shrinking (``s < 1``) with antialiasing the kernel is
  widened to ``h(x) = s·cubic(s·x)`` of width ``4 / s``;
* output pixel ``x`` (1-based) maps to ``u = x / s + (1 - 1/s) / 2`` and takes the
  ``ceil(width) + 2`` input pixels from ``floor(u - width/2)`` on, weights ``h(u - i)``
  normalised to sum to 1; indices outside the image are mirrored (symmetric padding:
  ``[1..n, n..1]`` repeated); kernel columns that are zero for every output are dropped;
* the dimension with the smaller scale is resized first (``sort(scale)``; rows first on a tie);
* an integer image is rounded (half away from zero) and saturated after each of the two passes,
  because ``imresizemex`` returns the input's class. This per-pass rounding is the one assumption
  here (``intermediate='float'`` keeps the first pass unrounded, to measure what it changes).

Certain by construction and tested: identity at the same size, constant images stay constant,
weights of hand-derived cases (:mod:`tests.test_matlab_functions`).
"""
from typing import Sequence, Tuple

import numpy as np

INTERMEDIATES = ('uint8', 'float')


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def contributions(in_length: int, out_length: int, scale: float,
                  antialiasing: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """``(weights, indices)``, each (out_length, K): output ``i`` is ``Σ_k w[i,k]·in[idx[i,k]]``
    (0-based indices, mirrored at the borders)."""
    width = 4.0
    if scale < 1 and antialiasing:
        def kernel(x):
            return scale * cubic(scale * x)
        width = width / scale
    else:
        kernel = cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(np.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None]
    weights = kernel(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, len(mirror))]
    used = np.any(weights != 0, axis=0)
    return weights[:, used], indices[:, used]


def round_half_away(values: np.ndarray) -> np.ndarray:
    """MATLAB's ``round`` (halves away from zero; numpy's rounds them to even)."""
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def to_uint8(values: np.ndarray) -> np.ndarray:
    """MATLAB's ``uint8(x)``: round half away from zero, saturate to [0, 255]."""
    return np.clip(round_half_away(values), 0, 255).astype(np.uint8)


def _resize_axis(image: np.ndarray, axis: int, weights: np.ndarray,
                 indices: np.ndarray) -> np.ndarray:
    moved = np.moveaxis(image, axis, 0)
    gathered = moved[indices]  # (out, K, ...rest)
    out = np.einsum('ok,ok...->o...', weights, gathered)
    return np.moveaxis(out, 0, axis)


def imresize(image: np.ndarray, size: Sequence[int], antialiasing: bool = True,
             intermediate: str = 'uint8') -> np.ndarray:
    """``imresize(image, [H W])`` (bicubic) of an (H, W) or (H, W, C) uint8 or float image.

    uint8 in, uint8 out (rounded and saturated after each pass, see the module doc); float in,
    float64 out, neither rounded nor clipped (bicubic overshoot stays, as in MATLAB).
    """
    if intermediate not in INTERMEDIATES:
        raise ValueError(f'imresize: intermediate must be one of {INTERMEDIATES}, '
                         f'got {intermediate!r}.')
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f'imresize expects an (H, W) or (H, W, C) image, got {array.shape}.')
    out_size = (int(size[0]), int(size[1]))
    if min(out_size) < 1:
        raise ValueError(f'imresize: the output size must be positive, got {out_size}.')
    is_uint8 = array.dtype == np.uint8
    if not is_uint8 and array.dtype.kind not in 'fb':
        raise ValueError(f'imresize handles uint8 and float images, got {array.dtype}.')
    scales = [out_size[d] / array.shape[d] for d in (0, 1)]
    order = sorted((0, 1), key=lambda d: scales[d])  # stable: rows first on a tie
    result = array.astype(np.float64)
    for step, axis in enumerate(order):
        weights, indices = contributions(array.shape[axis], out_size[axis], scales[axis],
                                         antialiasing)
        result = _resize_axis(result, axis, weights, indices)
        if is_uint8 and (intermediate == 'uint8' or step == 1):
            result = to_uint8(result).astype(np.float64)
    return result.astype(np.uint8) if is_uint8 else result
