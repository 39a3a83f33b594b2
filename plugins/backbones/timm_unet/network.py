"""TimmUNet: a U-Net whose encoder is any timm architecture, for Resfusion's resnoise prediction."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rf.nn import ContextAttention, SinusoidalPosEmb, prepare_unet_input
from rf_plugins.backbones.timm_unet.decoder import TimeConditionedBlock
from rf_plugins.backbones.timm_unet.encoder import build_encoder


class TimmUNet(nn.Module):
    """Encoder ``timm.create_model(encoder, features_only=True, in_chans=in_channels)``; a decoder
    of :class:`TimeConditionedBlock` s that climbs the encoder's feature pyramid (upsample, concat
    the skip feature, block) back to the input's resolution, where a full-resolution 3x3 stem of
    the input is concatenated before the last block and a 1x1 conv to ``out_channels``.

    The step ``t`` (0-based, shape (B,)) enters the decoder: sinusoidal embedding of size ``dim``
    -> Linear(dim, 4·dim) -> GELU -> Linear(4·dim, 4·dim) -> per-block scale and shift. The timm
    encoder itself does not see the step.

    Args:
        encoder: any timm architecture with ``features_only`` support (``'resnet18'``,
            ``'convnext_atto'``, ``'efficientnet_b0'``, ...). Encoders with BatchNorm need
            training batches of more than one image.
        in_channels: channels of the fused input (6 for ``concat`` of x_t and an RGB image, 3 for
            the ``cross_attention`` fuser).
        out_channels: channels of the prediction.
        dim: width of the step embedding, of the full-resolution stem and of the last block.
        decoder_channels: width of the decoder block at each encoder level, shallowest first;
            default ``dim·min(2**i, 8)``.
        groups: GroupNorm groups in the decoder.
        encoder_weights: optional local file with pretrained weights of the timm classification
            model ``encoder`` (never downloaded; see :func:`build_encoder`).
        encoder_kwargs: more options for ``timm.create_model`` (e.g. ``out_indices``).
        context_dim: ``None``: no cross-attention. An int adds :class:`ContextAttention` blocks
            after the decoder blocks of the levels whose reduction is at least
            ``context_min_reduction``; ``forward`` then needs ``context`` tokens (B, N, context_dim)
            from the ``cross_attention`` fuser.
        context_min_reduction: see ``context_dim`` (16: the two deepest levels of most encoders).
        attn_heads, attn_dim_head: heads and width per head of the cross-attention.

    Sizes: the input is reflect-padded to a multiple of the encoder's total stride
    (``size_multiple``, e.g. 32) and the output cropped back, so any height and width work.
    """

    def __init__(self, encoder: str = 'resnet18', in_channels: int = 6, out_channels: int = 3,
                 dim: int = 32, decoder_channels: Optional[Sequence[int]] = None, groups: int = 8,
                 encoder_weights: Optional[str] = None, encoder_kwargs: Optional[dict] = None,
                 context_dim: Optional[int] = None, context_min_reduction: int = 16,
                 attn_heads: int = 4, attn_dim_head: int = 32) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.encoder = build_encoder(encoder, in_channels, encoder_weights,
                                     **(encoder_kwargs or {}))
        channels = list(self.encoder.feature_info.channels())
        reductions = list(self.encoder.feature_info.reduction())
        self.size_multiple = max(reductions)
        levels = len(channels)
        if decoder_channels is None:
            decoder_channels = [dim * min(2 ** i, 8) for i in range(levels)]
        if len(decoder_channels) != levels:
            raise ValueError(f'TimmUNet: decoder_channels has {len(decoder_channels)} entries but '
                             f'the encoder {encoder!r} gives {levels} feature levels '
                             f'(channels {channels}, reductions {reductions}).')
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, time_dim), nn.GELU(),
                                      nn.Linear(time_dim, time_dim))
        self.stem = nn.Conv2d(in_channels, dim, 3, padding=1)
        # decoder[i] works at level i: the deepest takes the deepest feature alone, every other
        # one the upsampled output of the level below it concatenated with level i's feature.
        self.decoder = nn.ModuleList(
            TimeConditionedBlock(channels[i] + (decoder_channels[i + 1] if i + 1 < levels else 0),
                                 decoder_channels[i], time_dim, groups)
            for i in range(levels))
        self.final_block = TimeConditionedBlock(decoder_channels[0] + dim, dim, time_dim, groups)
        self.final_conv = nn.Conv2d(dim, out_channels, 1)
        self.context_dim = context_dim
        if context_dim is not None:
            attend = [i for i in range(levels) if reductions[i] >= context_min_reduction]
            if not attend:
                raise ValueError(f'TimmUNet: no encoder level has a reduction >= '
                                 f'context_min_reduction={context_min_reduction} (reductions '
                                 f'{reductions}); lower it.')
            self.context_attns = nn.ModuleDict({
                f'level{i}': ContextAttention(decoder_channels[i], context_dim, attn_heads,
                                              attn_dim_head) for i in attend})

    def forward(self, x: torch.Tensor, t: torch.Tensor,
                context: Optional[torch.Tensor] = None) -> torch.Tensor:
        x, t, (height, width) = prepare_unet_input('TimmUNet', x, t, context, self.in_channels,
                                                   self.context_dim, self.size_multiple)
        return self._forward_padded(x, t, context)[..., :height, :width]

    def _forward_padded(self, x: torch.Tensor, t: torch.Tensor,
                        context: Optional[torch.Tensor]) -> torch.Tensor:
        emb = self.time_mlp(t)
        features = self.encoder(x)
        y = None
        for level in reversed(range(len(features))):
            skip = features[level]
            if y is not None:
                y = torch.cat((F.interpolate(y, size=skip.shape[-2:], mode='nearest'), skip), 1)
            y = self.decoder[level](skip if y is None else y, emb)
            if self.context_dim is not None and f'level{level}' in self.context_attns:
                y = self.context_attns[f'level{level}'](y, context)
        y = F.interpolate(y, size=x.shape[-2:], mode='nearest')
        y = self.final_block(torch.cat((y, self.stem(x)), dim=1), emb)
        return self.final_conv(y)
