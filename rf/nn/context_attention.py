"""Cross-attention from a backbone's feature map to context tokens.

The ``cross_attention`` fuser (``rf_plugins.fusers.cross_attention``) turns the condition into
context tokens (B, N, D); a backbone built with ``context_dim=D`` puts :class:`ContextAttention`
blocks in its network and receives the tokens as ``forward(x, t, context=tokens)``. It lives in
the core so that backbones and fusers (separate plugins) share it without importing each other.

Position: queries (pixels of a feature map) and keys (tokens of the condition's own grid) both
get :func:`rf.nn.position_features.grid_position_features` of their pixel centres, projected by
a learned linear layer.
"""
import torch
import torch.nn.functional as F
from torch import nn

from rf.nn.position_features import POSITION_FEATURES, grid_position_features


def check_context(context: torch.Tensor, batch: int, context_dim: int, where: str) -> None:
    """One clear error for context tokens of the wrong shape."""
    if context is None:
        raise ValueError(f'{where} was built with context_dim={context_dim} and needs context '
                         f'tokens: call it as forward(x, t, context=...) (the cross_attention '
                         f'fuser provides them).')
    if context.dim() != 3 or context.shape[0] != batch or context.shape[-1] != context_dim:
        raise ValueError(f'{where}: context must be (B={batch}, N, {context_dim}) tokens, got '
                         f'{tuple(context.shape)}.')


class ContextAttention(nn.Module):
    """``x + out(attention(q(norm(x) + pos), k(norm(c)), v(norm(c))))``: every pixel of the
    feature map ``x`` (B, C, H, W) attends over the context tokens ``c`` (B, N, context_dim).

    Args:
        channels: channels ``C`` of the feature map.
        context_dim: width ``D`` of the context tokens.
        heads, dim_head: attention heads and width per head.
    """

    def __init__(self, channels: int, context_dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__()
        hidden = heads * dim_head
        self.heads = heads
        self.norm = nn.GroupNorm(1, channels)
        self.position = nn.Linear(POSITION_FEATURES, channels)
        self.context_norm = nn.LayerNorm(context_dim)
        self.to_q = nn.Linear(channels, hidden, bias=False)
        self.to_kv = nn.Linear(context_dim, hidden * 2, bias=False)
        self.to_out = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        pixels = self.norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        pixels = pixels + self.position(grid_position_features(h, w, x.device, pixels.dtype))
        q = self.to_q(pixels)
        k, v = self.to_kv(self.context_norm(context.to(pixels.dtype))).chunk(2, dim=-1)
        q, k, v = (part.unflatten(-1, (self.heads, -1)).transpose(1, 2) for part in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, dim_head)
        out = self.to_out(attended.transpose(1, 2).flatten(2))
        return x + out.transpose(1, 2).reshape(b, c, h, w)
