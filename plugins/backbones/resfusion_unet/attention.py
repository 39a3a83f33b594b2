"""The two attentions of the RDDM U-Net: linear attention at every level, full attention in the middle."""
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from rf_plugins.backbones.resfusion_unet.convolutions import PointwiseConv2d
from rf_plugins.backbones.resfusion_unet.fast_path import FastPathMixin
from rf_plugins.backbones.resfusion_unet.layers import ChannelLayerNorm


def softmax_over_channels(q: torch.Tensor, in_place: bool) -> torch.Tensor:
    """Softmax over dim -2 of (B, heads, C, N). Spelt out, because torch's softmax over a
    strided dimension is slow on CPUs; in place when no gradient is needed."""
    if not in_place:
        return q.softmax(dim=-2)
    exp = (q - q.amax(dim=-2, keepdim=True)).exp_()
    return exp.div_(exp.sum(dim=-2, keepdim=True))


class _QKVAttention(FastPathMixin, nn.Module):
    """What both attentions share: a bias-free 1x1 conv to q, k, v for ``heads`` heads."""

    def __init__(self, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.scale = dim_head ** -0.5
        self.heads = heads
        self.hidden = heads * dim_head
        self.to_qkv = PointwiseConv2d(dim, self.hidden * 3, bias=False)


class LinearAttention(_QKVAttention):
    """Efficient attention: q softmaxed over channels, k over pixels, cost linear in pixels."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__(dim, heads, dim_head)
        self.to_out = nn.Sequential(PointwiseConv2d(self.hidden, dim), ChannelLayerNorm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h c) x y -> b h c (x y)', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        if self.fast:
            return self.to_out[1](self._fast_context_and_output(q, k, v, h, w))
        q = q.softmax(dim=-2) * self.scale
        k = k.softmax(dim=-1)
        v = v / (h * w)
        context = torch.einsum('bhdn,bhen->bhde', k, v)
        out = torch.einsum('bhde,bhdn->bhen', context, q)
        out = rearrange(out, 'b h c (x y) -> b (h c) x y', h=self.heads, x=h, y=w)
        return self.to_out(out)

    def _fast_context_and_output(self, q, k, v, h: int, w: int) -> torch.Tensor:
        """The output 1x1 conv applied to ``contextᵀ·q``, with the conv's weight multiplied
        into the small per-head context matrices first: one (C_out x hidden) product over the
        pixels instead of a per-head product, a pass over its result and the conv. The scale
        of q and the 1/(h·w) of v are folded into the context matrix too."""
        b = q.shape[0]
        q = softmax_over_channels(q, in_place=self.may_overwrite())
        context = torch.matmul(k.softmax(dim=-1), v.transpose(-1, -2))  # (b, heads, d, e)
        conv = self.to_out[0]
        weight = conv.weight.reshape(conv.out_channels, self.heads, -1)  # (o, heads, e)
        mixed = torch.einsum('ohe,bhde->bohd', weight, context) * (self.scale / (h * w))
        mixed = mixed.reshape(b, conv.out_channels, self.hidden)
        out = torch.baddbmm(conv.bias[:, None], mixed, q.reshape(b, self.hidden, h * w))
        return out.view(b, conv.out_channels, h, w)


class Attention(_QKVAttention):
    """Standard softmax attention over pixels: the fused scaled-dot-product kernel on the fast
    path, the authors' einsum-softmax-einsum otherwise."""

    def __init__(self, dim: int, heads: int = 4, dim_head: int = 32) -> None:
        super().__init__(dim, heads, dim_head)
        self.to_out = PointwiseConv2d(self.hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h d) x y -> b h (x y) d', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        if self.fast:
            # The fused kernels want the head dimension contiguous; these views of the conv
            # output are not, and would send the call to the unfused (math) fallback, which
            # builds the (pixels x pixels) matrix: 6x slower at 600x400 on a CPU.
            q, k, v = (part.contiguous() for part in (q, k, v))
            out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        else:
            similarity = torch.einsum('bhid,bhjd->bhij', q * self.scale, k)
            out = torch.einsum('bhij,bhjd->bhid', similarity.softmax(dim=-1), v)
        out = rearrange(out, 'b h (x y) d -> b (h d) x y', x=h, y=w)
        return self.to_out(out)
