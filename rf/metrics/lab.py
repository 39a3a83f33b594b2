"""sRGB -> CIE-LAB (D65 white, 2° observer), in float64, for the ISTD MAE (docs/design.md §3.3).

The same conversion as ``skimage.color.rgb2lab`` and MATLAB's ``rgb2lab`` (both D65 by default):
undo the sRGB gamma, go to XYZ with the sRGB/D65 matrix, normalise by the white point and apply
the CIE cube-root curve (linear below 0.008856). L lies in [0, 100]; a and b roughly in
[-128, 128]. (MATLAB's older ``applycform(makecform('srgb2lab'))`` adapts to D50 instead, which
shifts a and b slightly.)
"""
import torch

# Linear sRGB -> XYZ (D65), rows X, Y, Z.
XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423),
                (0.212671, 0.715160, 0.072169),
                (0.019334, 0.119193, 0.950227))
D65_WHITE = (0.95047, 1.0, 1.08883)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    """The inverse sRGB transfer curve, RGB in [0, 1]."""
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)


def rgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """An RGB image (3, H, W) on the 0-255 scale (uint8 or float) -> LAB (3, H, W) float64."""
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f'rgb_to_lab expects an RGB image (3, H, W), got {tuple(image.shape)}.')
    linear = srgb_to_linear(image.double() / 255)
    matrix = torch.tensor(XYZ_FROM_RGB, dtype=torch.float64, device=image.device)
    white = torch.tensor(D65_WHITE, dtype=torch.float64, device=image.device)
    xyz = torch.einsum('ij,jhw->ihw', matrix, linear) / white[:, None, None]
    curve = torch.where(xyz > 0.008856, xyz.clamp(min=0) ** (1 / 3), 7.787 * xyz + 16 / 116)
    fx, fy, fz = curve
    return torch.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)))
