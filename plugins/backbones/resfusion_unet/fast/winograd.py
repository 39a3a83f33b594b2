"""Winograd F(4x4, 3x3) convolution for CPU inference: 2.25 instead of 9 multiply-adds per output
and channel pair, in exchange for transforms whose cost grows with the channels, not their square.

On a CPU whose direct convolution already runs near the machine's peak, this is the only way to
make the wide, low-resolution 3x3 convolutions of the U-Net cheaper at (nearly) the same output.
The tile matrices come from the Toom-Cook construction with the points 0, 1, -1, 2, -1/2 (and
infinity). Those points keep the error within about 4e-6 of the output's scale in float32,
where the usual 0, ±1, ±2 give about 1e-5.
"""
import functools
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

OUTPUT_TILE = 4  # m: each tile gives m x m outputs
KERNEL = 3       # r
POINTS = (0.0, 1.0, -1.0, 2.0, -0.5)


@functools.lru_cache(maxsize=None)
def toom_cook_matrices(m: int = OUTPUT_TILE, r: int = KERNEL,
                       points: Sequence[float] = POINTS) -> Tuple[torch.Tensor, ...]:
    """``(B^T, G, A^T)`` in float64 for F(m, r) with the finite ``points`` and infinity:
    ``y = A^T [(G g) * (B^T d)]`` is the correlation of the m + r - 1 inputs ``d`` with the r
    taps ``g``. Rows of B^T are the coefficients of M(x)/(x - p) (and of M(x) for infinity), with
    M the product of (x - p) over the points; G carries the Lagrange denominators."""
    alpha = m + r - 1
    if len(points) != alpha - 1 or len(set(points)) != len(points):
        raise ValueError(f'F({m}, {r}) needs {alpha - 1} distinct finite points, got {points}.')
    a_t = torch.zeros(m, alpha, dtype=torch.float64)
    g = torch.zeros(alpha, r, dtype=torch.float64)
    b_t = torch.zeros(alpha, alpha, dtype=torch.float64)

    def poly_with_roots(roots) -> torch.Tensor:
        """Coefficients (increasing powers) of the product of (x - root)."""
        coeffs = torch.ones(1, dtype=torch.float64)
        for root in roots:
            zero = coeffs.new_zeros(1)
            coeffs = torch.cat((zero, coeffs)) - root * torch.cat((coeffs, zero))
        return coeffs

    for j, p in enumerate(points):
        others = [q for i, q in enumerate(points) if i != j]
        a_t[:, j] = torch.tensor([p ** i for i in range(m)], dtype=torch.float64)
        denominator = 1.0
        for q in others:
            denominator *= p - q
        g[j] = torch.tensor([p ** k / denominator for k in range(r)], dtype=torch.float64)
        b_t[j, :alpha - 1] = poly_with_roots(others)
    a_t[m - 1, alpha - 1] = 1.0
    g[alpha - 1, r - 1] = 1.0
    b_t[alpha - 1] = poly_with_roots(points)
    return b_t, g, a_t


def winograd_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The (alpha², C_out, C_in) transformed kernel ``G w G^T`` of a (C_out, C_in, 3, 3) weight:
    one product with ``G ⊗ G`` (alpha² x 9), which writes the layout the tile products read."""
    _, g, _ = toom_cook_matrices()
    g = g.to(weight.device, weight.dtype)
    c_out, c_in = weight.shape[:2]
    kernel = torch.mm(torch.kron(g, g), weight.reshape(c_out * c_in, KERNEL * KERNEL).t())
    return kernel.view(-1, c_out, c_in)


@functools.lru_cache(maxsize=None)
def _tile_transforms(device: torch.device, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    """``B^T ⊗ B^T`` (alpha², alpha²) and ``A^T ⊗ A^T`` (m², alpha²): the 2-D input and
    output transforms as one small matrix each, applied to all tiles by one product."""
    b_t, _, a_t = toom_cook_matrices()
    return (torch.kron(b_t, b_t).to(device, dtype), torch.kron(a_t, a_t).to(device, dtype))


def winograd_conv3x3(x: torch.Tensor, kernel: torch.Tensor,
                     bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``F.conv2d(x, w, bias, padding=1)`` for a 3x3 ``w`` given as ``winograd_kernel(w)``.
    Sizes that are not a multiple of the tile are padded with zeros and cropped back."""
    m, alpha = OUTPUT_TILE, OUTPUT_TILE + KERNEL - 1
    n, c, h, w = x.shape
    tiles_h, tiles_w = -(-h // m), -(-w // m)
    padded = F.pad(x, (1, tiles_w * m + 1 - w, 1, tiles_h * m + 1 - h))
    # (alpha, alpha, C, N, tiles_h, tiles_w): every overlapping alpha x alpha tile, one copy.
    # The images of a batch sit side by side, so one product per tile position serves them all.
    tiles = padded.unfold(2, alpha, m).unfold(3, alpha, m).permute(4, 5, 1, 0, 2, 3)
    tiles = tiles.reshape(alpha * alpha, -1)
    del padded
    transform_in, transform_out = _tile_transforms(x.device, x.dtype)
    v = torch.mm(transform_in, tiles).view(alpha * alpha, c, -1)
    del tiles
    products = torch.bmm(kernel, v)  # (alpha², C_out, N·tiles)
    del v
    out = torch.mm(transform_out, products.view(alpha * alpha, -1))
    del products
    out = out.view(m, m, -1, n, tiles_h, tiles_w).permute(3, 2, 4, 0, 5, 1)
    out = out.reshape(n, -1, tiles_h * m, tiles_w * m)
    if tiles_h * m != h or tiles_w * m != w:
        out = out[:, :, :h, :w].contiguous()
    if bias is not None:
        out += bias[:, None, None]
    return out
