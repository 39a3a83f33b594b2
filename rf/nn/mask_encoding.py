"""Encodings of a condition's mask before it reaches the network, shared by the fusers
(``concat`` and ``cross_attention``) so that both accept the same ``mask_encoding`` names."""
import torch

MASK_ENCODINGS = (None, 'shadow_onehot')


def encode_shadow_mask(mask: torch.Tensor) -> torch.Tensor:
    """ISTD mask (B, 1, H, W) with shadow = 255 -> 2 channels ``[not shadow, shadow]`` in ±1."""
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f'The shadow mask must be (B, 1, H, W) with shadow = 255, got '
                         f'{tuple(mask.shape)}.')
    shadow = (mask == 255).to(torch.get_default_dtype() if not mask.is_floating_point()
                              else mask.dtype)
    return torch.cat((1 - shadow, shadow), dim=1) * 2 - 1
