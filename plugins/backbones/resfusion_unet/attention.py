"""The two attentions of the RDDM U-Net, written literally as in the authors' code: linear
attention at every level, full softmax attention in the middle. Their fast twins, with the same
parameters, are in :mod:`.fast.attention`."""
import torch
from einops import rearrange
from torch import nn

from rf_plugins.backbones.resfusion_unet.layers import ChannelLayerNorm


class _QKVAttention(nn.Module):
    """What both attentions share: a bias-free 1x1 conv to q, k, v for ``heads`` heads of
    ``dim_head`` channels each, and the scale ``dim_head ** -0.5``."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        self.hidden = heads * dim_head
        self.to_qkv = nn.Conv2d(dim, self.hidden * 3, 1, bias=False)


class LinearAttention(_QKVAttention):
    """Efficient attention (Shen et al.), whose cost is linear in the pixels: per head, with q,
    k, v of shape (d, N) for N = h·w pixels,

        context = softmax_N(k) · (v / N)ᵀ     (d x d),
        out     = contextᵀ · (softmax_d(q) · scale)    (d x N),

    then a 1x1 conv and a :class:`ChannelLayerNorm` (``to_out``)."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__(dim, heads, dim_head)
        self.to_out = nn.Sequential(nn.Conv2d(self.hidden, dim, 1), ChannelLayerNorm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h c) x y -> b h c (x y)', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2) * self.scale
        k = k.softmax(dim=-1)
        v = v / (h * w)
        context = torch.einsum('bhdn,bhen->bhde', k, v)
        out = torch.einsum('bhde,bhdn->bhen', context, q)
        out = rearrange(out, 'b h c (x y) -> b (h c) x y', h=self.heads, x=h, y=w)
        return self.to_out(out)


class Attention(_QKVAttention):
    """Softmax attention over the pixels, per head with q, k, v of shape (N, d):

        out = softmax(q · scale · kᵀ) · v,

    then a 1x1 conv (``to_out``)."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__(dim, heads, dim_head)
        self.to_out = nn.Conv2d(self.hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h d) x y -> b h (x y) d', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        similarity = torch.einsum('bhid,bhjd->bhij', q * self.scale, k)
        out = torch.einsum('bhij,bhjd->bhid', similarity.softmax(dim=-1), v)
        out = rearrange(out, 'b h (x y) d -> b (h d) x y', x=h, y=w)
        return self.to_out(out)
