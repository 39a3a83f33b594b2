"""First-party plugin: the ``cross_attention`` fuser. ``x_t`` alone is the network input; the
condition (and the mask) are encoded into context tokens that the backbone attends to.

Protocol (see :mod:`rf.models.fused_input`): ``encode`` turns the condition into tokens (B, N,
context_dim) once per image, ``fuse`` returns ``FusedInput(input=x_t, context=tokens)`` at each
step, and the model calls ``backbone(x_t, t - 1, context=tokens)``. The backbone must be
built with the same ``context_dim`` (``ResfusionUNet`` and ``TimmUNet`` take it) and with
``in_channels`` = the image's channels, since the condition is not concatenated.
"""
from typing import Optional

import torch
from torch import nn

from rf.models.fused_input import BaseFuser, FusedInput
from rf.nn import MASK_ENCODINGS, POSITION_FEATURES, encode_shadow_mask, grid_position_features
from rf.plugins import hookimpl


def conv_norm_act(c_in: int, c_out: int, groups: int, **conv) -> nn.Sequential:
    """Conv2d -> GroupNorm -> SiLU (no batch statistics: batches in diffusion mix steps)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, **conv), nn.GroupNorm(groups, c_out), nn.SiLU())


class ConditionEncoder(nn.Module):
    """A small conv net from the condition image to a grid of tokens at 1/2**downsample of its
    size: 3x3 conv, then ``downsample`` stride-2 4x4 convs (widths ``dim``, 2·dim, 4·dim, 4·dim,
    ...), then a 1x1 conv to ``context_dim``."""

    def __init__(self, in_channels: int, dim: int, context_dim: int, downsample: int,
                 groups: int) -> None:
        super().__init__()
        widths = [dim * min(2 ** i, 4) for i in range(downsample + 1)]
        for width in widths:
            if width % groups:
                raise ValueError(f'cross_attention fuser: width {width} is not a multiple of '
                                 f'groups={groups} (choose dim as a multiple of groups).')
        layers = [conv_norm_act(in_channels, dim, groups, kernel_size=3, padding=1)]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers.append(conv_norm_act(c_in, c_out, groups, kernel_size=4, stride=2, padding=1))
        layers.append(nn.Conv2d(widths[-1], context_dim, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.layers(image)


class CrossAttentionFuser(BaseFuser):
    """Fuse by cross-attention: the backbone gets ``x_t`` and attends to tokens of the condition.

    The condition and the mask (encoded as the ``concat`` fuser does, :mod:`rf.nn.mask_encoding`)
    are concatenated and encoded by :class:`ConditionEncoder` into an (H/2**downsample) x
    (W/2**downsample) grid of tokens, to which the projected :func:`grid_position_features` of
    each token's place are added. The encoder is a submodule of the fuser, itself a submodule of
    the model, so it is trained, averaged (EMA) and saved with the backbone.

    Args:
        context_dim: width of the tokens; the backbone's ``context_dim`` must match.
        cond_channels: channels of the condition (3 for an RGB degraded image).
        mask_channels: channels of the mask as the data gives it (0 without a mask, 1 for ISTD).
        mask_encoding: ``None`` uses the mask as given; ``'shadow_onehot'`` turns an ISTD mask
            into two ±1 channels first.
        dim: width of the encoder's first layer.
        downsample: how many times the encoder halves the condition's size (3: tokens at 1/8,
            i.e. N = H·W/64 tokens). Fewer tokens make the attention cheaper.
        groups: GroupNorm groups in the encoder.
    """

    def __init__(self, context_dim: int = 128, cond_channels: int = 3, mask_channels: int = 0,
                 mask_encoding: Optional[str] = None, dim: int = 32, downsample: int = 3,
                 groups: int = 8) -> None:
        super().__init__()
        if mask_encoding not in MASK_ENCODINGS:
            raise ValueError(f'Unknown mask_encoding {mask_encoding!r}; choose one of '
                             f'{MASK_ENCODINGS}.')
        if downsample < 0:
            raise ValueError(f'cross_attention fuser: downsample must be >= 0, got {downsample}.')
        self.context_dim = int(context_dim)
        self.mask_encoding = mask_encoding
        self.cond_channels = cond_channels
        self.mask_channels = (2 if mask_encoding == 'shadow_onehot' and mask_channels
                              else mask_channels)
        self.encoder = ConditionEncoder(cond_channels + self.mask_channels, dim, self.context_dim,
                                        downsample, groups)
        self.position = nn.Linear(POSITION_FEATURES, self.context_dim)

    def fused_channels(self, x_channels: int, cond_channels: int = 0,
                       mask_channels: int = 0) -> int:
        """Channels of the network input, i.e. the backbone's ``in_channels``: those of x_t."""
        return x_channels

    def fuse(self, x_t: torch.Tensor, encoded: torch.Tensor) -> FusedInput:
        """``x_t`` as the network input, the tokens as its context."""
        if encoded.shape[0] != x_t.shape[0]:
            raise ValueError(f'cross_attention fuser: the condition has {encoded.shape[0]} '
                             f'image(s) for a batch of {x_t.shape[0]} in x_t.')
        return FusedInput(x_t, encoded)

    def encode(self, condition: Optional[torch.Tensor],
               mask: Optional[torch.Tensor]) -> torch.Tensor:
        """Context tokens (B, N, context_dim) of the condition and mask, once per image."""
        if condition is None:
            raise ValueError('The cross_attention fuser needs a condition to encode, and this '
                             "task gives none: use fuser=dict(type='concat') for tasks without a "
                             'condition (generation, translation).')
        parts = [condition]
        if mask is not None:
            parts.append(encode_shadow_mask(mask) if self.mask_encoding else mask)
        for name, part in zip(('condition', 'mask'), parts):
            if part.shape[0] != condition.shape[0] or part.shape[-2:] != condition.shape[-2:]:
                raise ValueError(f'cross_attention fuser: the {name} has shape '
                                 f'{tuple(part.shape)}, which does not match the condition '
                                 f'{tuple(condition.shape)} in batch or size.')
        image = torch.cat([part.to(condition.dtype) for part in parts], dim=1)
        expected = self.cond_channels + self.mask_channels
        if image.shape[1] != expected:
            raise ValueError(f'cross_attention fuser: built for {self.cond_channels} condition + '
                             f'{self.mask_channels} mask channels = {expected}, got '
                             f'{image.shape[1]} (condition {tuple(condition.shape)}, mask '
                             f'{None if mask is None else tuple(mask.shape)}); set cond_channels '
                             f'/ mask_channels in the fuser config.')
        grid = self.encoder(image)
        h, w = grid.shape[-2:]
        tokens = grid.flatten(2).transpose(1, 2)
        return tokens + self.position(grid_position_features(h, w, grid.device, tokens.dtype))


@hookimpl
def rf_register_modules(registry):
    registry.FUSERS.register_module(name='cross_attention', module=CrossAttentionFuser)
