"""First-party plugin: the ``concat`` fuser, channel concatenation ``[x_t, condition, mask]``."""
from typing import Optional

import torch
from torch import nn

from rf.nn import MASK_ENCODINGS, encode_shadow_mask
from rf.plugins import hookimpl

class ConcatFuser(nn.Module):
    """Fuse by channel concatenation, in the order ``x_t``, condition, mask.

    Args:
        mask_encoding: ``None`` concatenates the mask as given; ``'shadow_onehot'`` turns an
            ISTD mask (shadow = 255) into two ±1 channels first (so the network gets 3+3+2 = 8).
    """

    def __init__(self, mask_encoding: Optional[str] = None) -> None:
        super().__init__()
        if mask_encoding not in MASK_ENCODINGS:
            raise ValueError(f'Unknown mask_encoding {mask_encoding!r}; choose one of '
                             f'{MASK_ENCODINGS}.')
        self.mask_encoding = mask_encoding

    def fused_channels(self, x_channels: int, cond_channels: int = 0, mask_channels: int = 0) -> int:
        """Channels of the fused input, i.e. the backbone's ``in_channels``."""
        if self.mask_encoding == 'shadow_onehot' and mask_channels:
            mask_channels = 2
        return x_channels + cond_channels + mask_channels

    def forward(self, x_t: torch.Tensor, condition: Optional[torch.Tensor] = None,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        named = [('condition', condition)]
        if mask is not None:
            named.append(('mask', encode_shadow_mask(mask) if self.mask_encoding else mask))
        named = [(name, part) for name, part in named if part is not None]
        for name, part in named:
            if part.shape[0] != x_t.shape[0] or part.shape[-2:] != x_t.shape[-2:]:
                raise ValueError(f'ConcatFuser: the {name} has shape {tuple(part.shape)}, which '
                                 f'does not match x_t {tuple(x_t.shape)} in batch or size.')
        return torch.cat([x_t] + [part.to(x_t.dtype) for _, part in named], dim=1)


@hookimpl
def rf_register_modules(registry):
    registry.FUSERS.register_module(name='concat', module=ConcatFuser)
