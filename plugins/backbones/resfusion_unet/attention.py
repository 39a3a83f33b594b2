"""The two attentions of the RDDM U-Net: linear attention at every level, full attention in the middle."""
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from rf_plugins.backbones.resfusion_unet.layers import ChannelLayerNorm


class _QKVAttention(nn.Module):
    """What both attentions share: a bias-free 1x1 conv to q, k, v for ``heads`` heads."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        self.hidden = heads * dim_head
        self.to_qkv = nn.Conv2d(dim, self.hidden * 3, 1, bias=False)


class LinearAttention(_QKVAttention):
    """Efficient attention: q softmaxed over channels, k over pixels, cost linear in pixels."""

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
    """Standard softmax attention over pixels (scaled dot product, fused kernel when available)."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__(dim, heads, dim_head)
        self.to_out = nn.Conv2d(self.hidden, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h d) x y -> b h (x y) d', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        out = rearrange(out, 'b h (x y) d -> b (h d) x y', x=h, y=w)
        return self.to_out(out)
