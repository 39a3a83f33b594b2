"""2-D positional features of a grid's pixel centres, shared by the queries and the keys of
cross-attention (:class:`rf.nn.ContextAttention` and the ``cross_attention`` fuser's tokens).

The features depend only on where a pixel lies in the image (normalised coordinates), not on
the grid's resolution, so a query can learn to look at the tokens of its own region whatever
the two grids' sizes are.
"""
import math

import torch

POSITION_FREQUENCIES = 16
POSITION_FEATURES = 4 * POSITION_FREQUENCIES  # sin and cos of y and of x at each frequency
MAX_FREQUENCY = 64.0  # cycles per image side at the highest frequency


def grid_position_features(height: int, width: int, device=None,
                           dtype=torch.float32) -> torch.Tensor:
    """(height·width, POSITION_FEATURES) sines and cosines of the pixel centres' coordinates
    in [0, 1], at ``POSITION_FREQUENCIES`` frequencies from 1 to ``MAX_FREQUENCY`` cycles per
    image side (geometrically spaced); rows in raster order, as ``x.flatten(2)`` orders pixels."""
    freqs = torch.exp(torch.linspace(0.0, math.log(MAX_FREQUENCY), POSITION_FREQUENCIES,
                                     device=device, dtype=torch.float32)) * (2 * math.pi)
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    y_angles = (ys[:, None] * freqs[None]).repeat_interleave(width, dim=0)
    x_angles = (xs[:, None] * freqs[None]).repeat(height, 1)
    features = torch.cat((y_angles.sin(), y_angles.cos(), x_angles.sin(), x_angles.cos()), dim=1)
    return features.to(dtype)
