"""Image-quality formulas on 0-255 images (docs/design.md §3.3), in float64 for exact reference values.

Images are (C, H, W) or (H, W) tensors on the 0-255 scale (uint8 or float).
"""
import math

import torch
import torch.nn.functional as F


def rgb_to_y(image: torch.Tensor) -> torch.Tensor:
    """BT.601 luma of an RGB image (3, H, W) on 0-255: ``16 + 65.481R + 128.553G + 24.966B``,
    RGB in [0, 1]."""
    rgb = image.double() / 255
    weights = torch.tensor([65.481, 128.553, 24.966], dtype=torch.float64, device=image.device)
    return 16 + (rgb * weights[:, None, None]).sum(0, keepdim=True)


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 255.0) -> float:
    """``10·log10(range² / MSE)`` over every pixel and channel; inf for identical images."""
    mse = (a.double() - b.double()).square().mean().item()
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def mae(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean absolute difference over every pixel and channel."""
    return (a.double() - b.double()).abs().mean().item()


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-coords.square() / (2 * sigma ** 2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim_map(a: torch.Tensor, b: torch.Tensor, data_range: float = 255.0, window: int = 11,
             sigma: float = 1.5) -> torch.Tensor:
    """The SSIM map of Wang et al. (2004), (C, H - window + 1, W - window + 1): Gaussian window,
    'valid' filtering (the map of pixel ``(i, j)`` sits at ``(i - window // 2, j - window // 2)``)."""
    x, y = a.double(), b.double()
    if x.dim() == 2:
        x, y = x[None], y[None]
    if min(x.shape[-2:]) < window:
        raise ValueError(f'SSIM needs images of at least {window}x{window}, got {tuple(x.shape[-2:])}.')
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    kernel = gaussian_window(window, sigma).to(x.device)[None, None]
    channels = x.shape[0]
    kernel = kernel.expand(channels, 1, window, window)

    def blur(img: torch.Tensor) -> torch.Tensor:
        return F.conv2d(img[None], kernel, groups=channels)[0]

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.square()
    var_y = blur(y * y) - mu_y.square()
    cov = blur(x * y) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2))


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 255.0, window: int = 11,
         sigma: float = 1.5) -> float:
    """SSIM of Wang et al. (2004): Gaussian 11x11 window, σ = 1.5, 'valid' filtering, mean of channels."""
    return ssim_map(a, b, data_range, window, sigma).mean().item()
