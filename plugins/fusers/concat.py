"""First-party plugin: the ``concat`` fuser, channel concatenation ``[x_t, condition, mask]``."""
from typing import Optional, Tuple

import torch

from rf.models.fused_input import BaseFuser
from rf.nn import MASK_ENCODINGS, encode_shadow_mask
from rf.plugins import hookimpl


class ConcatFuser(BaseFuser):
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

    def encode(self, condition: Optional[torch.Tensor],
               mask: Optional[torch.Tensor]) -> Optional[Tuple[torch.Tensor, str]]:
        """The condition and the (encoded) mask concatenated once, with what they are called
        in messages; None without either."""
        parts = [(name, part) for name, part in (('condition', condition), ('mask', mask))
                 if part is not None]
        if mask is not None and self.mask_encoding:
            parts[-1] = ('mask', encode_shadow_mask(mask))
        if not parts:
            return None
        (first_name, first), rest = parts[0], parts[1:]
        for name, part in rest:
            if part.shape[0] != first.shape[0] or part.shape[-2:] != first.shape[-2:]:
                raise ValueError(f'ConcatFuser: the {name} has shape {tuple(part.shape)}, which '
                                 f'does not match the {first_name} {tuple(first.shape)} in '
                                 'batch or size.')
        tensor = torch.cat([first] + [part.to(first.dtype) for _, part in rest], dim=1) \
            if rest else first
        return tensor, ' and '.join(name for name, _ in parts)

    def fuse(self, x_t: torch.Tensor,
             encoded: Optional[Tuple[torch.Tensor, str]]) -> torch.Tensor:
        """``[x_t, condition, mask]`` along the channels."""
        if encoded is None:
            return x_t
        tensor, name = encoded
        if tensor.shape[0] != x_t.shape[0] or tensor.shape[-2:] != x_t.shape[-2:]:
            verb = 'have' if ' and ' in name else 'has'
            raise ValueError(f'ConcatFuser: the {name} {verb} shape {tuple(tensor.shape)}, which '
                             f'does not match x_t {tuple(x_t.shape)} in batch or size.')
        return torch.cat([x_t, tensor.to(x_t.dtype)], dim=1)


@hookimpl
def rf_register_modules(registry):
    registry.FUSERS.register_module(name='concat', module=ConcatFuser)
