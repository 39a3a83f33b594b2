"""MATLAB's colour conversions as the authors' evaluation scripts call them, in numpy float64.

* ``rgb2ycbcr`` on uint8 (luma only): ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` with
  R, G, B the uint8 values, computed in double by ``imlincomb`` and returned as uint8 (rounded half
  away from zero). Certain: it is the documented BT.601 formula and class behaviour.
* ``applycform(rgb, makecform('srgb2lab'))`` on doubles in [0, 1]. MATLAB documents that
  ``srgb2lab`` uses the ICC profile-connection white point, ``whitepoint('icc')`` = D50
  (0.9642, 1, 0.8249), unlike ``rgb2lab``, which defaults to D65. How MATLAB adapts sRGB's D65
  to D50 internally is not documented; ``white='icc_d50'`` (the protocols' default) assumes the
  standard sRGB curve, the IEC 61966-2-1 D65 matrix and a Bradford adaptation to D50, which is
  how the ICC's sRGB profile is built. ``white='d65'`` is the unadapted conversion (skimage's and
  ``rgb2lab``'s), named so either can be chosen. The two differ by about 1 in a/b on saturated
  colours and agree on greys.
"""
import numpy as np

from rf.metrics.matlab_imresize import to_uint8

LAB_WHITES = ('icc_d50', 'd65')
Y_WEIGHTS = (65.481, 128.553, 24.966)
# Linear sRGB -> XYZ (D65), IEC 61966-2-1.
XYZ_FROM_SRGB = np.array([[0.4124, 0.3576, 0.1805],
                          [0.2126, 0.7152, 0.0722],
                          [0.0193, 0.1192, 0.9505]])
D65 = np.array([0.9505, 1.0, 1.0890])
ICC_D50 = np.array([0.9642, 1.0, 0.8249])  # whitepoint('icc')
BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                     [-0.7502, 1.7135, 0.0367],
                     [0.0389, -0.0685, 1.0296]])


def rgb2ycbcr_y(image: np.ndarray) -> np.ndarray:
    """The Y plane of ``rgb2ycbcr`` of an (H, W, 3) uint8 image, as uint8 (H, W)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'rgb2ycbcr_y expects an (H, W, 3) uint8 image, got '
                         f'{image.shape} {image.dtype}.')
    rgb = image.astype(np.float64)
    w = [weight / 255 for weight in Y_WEIGHTS]
    return to_uint8(w[0] * rgb[..., 0] + w[1] * rgb[..., 1] + w[2] * rgb[..., 2] + 16)


def bradford_adaptation(source_white: np.ndarray, target_white: np.ndarray) -> np.ndarray:
    """The 3x3 XYZ matrix that maps ``source_white`` onto ``target_white`` (von Kries in the
    Bradford cone space)."""
    gain = (BRADFORD @ target_white) / (BRADFORD @ source_white)
    return np.linalg.inv(BRADFORD) @ np.diag(gain) @ BRADFORD


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """The inverse sRGB transfer curve on [0, 1] (values outside follow the same formula)."""
    return np.where(rgb > 0.04045, ((np.abs(rgb) + 0.055) / 1.055) ** 2.4 * np.sign(rgb),
                    rgb / 12.92)


def srgb2lab(image: np.ndarray, white: str = 'icc_d50') -> np.ndarray:
    """CIE L*a*b* (H, W, 3) of an sRGB (H, W, 3) float image in [0, 1] (see the module doc)."""
    if white not in LAB_WHITES:
        raise ValueError(f'srgb2lab: white must be one of {LAB_WHITES}, got {white!r}.')
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'srgb2lab expects an (H, W, 3) image, got {image.shape}.')
    matrix = XYZ_FROM_SRGB
    reference = D65
    if white == 'icc_d50':
        matrix = bradford_adaptation(D65, ICC_D50) @ XYZ_FROM_SRGB
        reference = ICC_D50
    xyz = srgb_to_linear(np.asarray(image, dtype=np.float64)) @ matrix.T / reference
    curve = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lightness = np.where(xyz[..., 1] > 0.008856, 116 * curve[..., 1] - 16, 903.3 * xyz[..., 1])
    return np.stack([lightness, 500 * (curve[..., 0] - curve[..., 1]),
                     200 * (curve[..., 1] - curve[..., 2])], axis=-1)
