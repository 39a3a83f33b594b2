"""The input checks and size padding that the U-Net backbones (ResfusionUNet, TimmUNet) share;
in the core so that the two backbone plugins share it without importing each other."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from rf.nn.context_attention import check_context


def prepare_unet_input(name: str, x: torch.Tensor, t: torch.Tensor,
                       context: Optional[torch.Tensor], in_channels: int,
                       context_dim: Optional[int], size_multiple: int
                       ) -> Tuple[torch.Tensor, torch.Tensor, Tuple[int, int]]:
    """Check ``x`` (B, in_channels, H, W) and the context against the network ``name``; returns
    ``x`` padded to a multiple of ``size_multiple`` (reflect, or replicate when the image is too
    small to reflect), the step index as a (B,) tensor, and the original (H, W) to crop back to."""
    if x.dim() != 4 or x.shape[1] != in_channels:
        raise ValueError(f'{name} expects (B, {in_channels}, H, W) input, got '
                         f'{tuple(x.shape)}.')
    if context_dim is None and context is not None:
        raise ValueError(f'{name} was built without context_dim, so it cannot attend to '
                         'context tokens: build it with context_dim=D to pair it with the '
                         'cross_attention fuser.')
    if context_dim is not None:
        check_context(context, x.shape[0], context_dim, name)
    t = torch.as_tensor(t, device=x.device)
    if t.dim() == 0:
        t = t.expand(x.shape[0])
    height, width = x.shape[-2:]
    pad_h, pad_w = (-height) % size_multiple, (-width) % size_multiple
    if pad_h or pad_w:
        mode = 'reflect' if pad_h < height and pad_w < width else 'replicate'
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x, t, (height, width)
