"""The fast twins of the U-Net's attentions: the linear attention's output conv multiplied into
its small context matrices, and the fused scaled-dot-product kernel for the full attention.
Same parameters as the literal modules in :mod:`..attention`."""
import torch
import torch.nn.functional as F
from einops import rearrange

from rf_plugins.backbones.resfusion_unet.attention import Attention, LinearAttention
from rf_plugins.backbones.resfusion_unet.fast.base import FastModule


def softmax_over_channels(q: torch.Tensor, in_place: bool) -> torch.Tensor:
    """Softmax over dim -2 of (B, heads, C, N). Spelt out, because torch's softmax over a
    strided dimension is slow on CPUs; in place when no gradient is needed."""
    if not in_place:
        return q.softmax(dim=-2)
    exp = (q - q.amax(dim=-2, keepdim=True)).exp_()
    return exp.div_(exp.sum(dim=-2, keepdim=True))


class FastLinearAttention(FastModule, LinearAttention, literal=LinearAttention):
    """The twin of :class:`.LinearAttention`. The output 1x1 conv ``W`` is applied to
    ``contextᵀ·q`` as ``(W·contextᵀ)·q``: ``W`` is multiplied into the small per-head context
    matrices first, so one (C_out x hidden) product over the pixels replaces a per-head
    product, a pass over its result and the conv. The scale of q and the 1/(h·w) of v are
    folded into the context matrix too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (rearrange(part, 'b (h c) x y -> b h c (x y)', h=self.heads)
                   for part in self.to_qkv(x).chunk(3, dim=1))
        q = softmax_over_channels(q, in_place=self.may_overwrite())
        context = torch.matmul(k.softmax(dim=-1), v.transpose(-1, -2))  # (b, heads, d, e)
        conv = self.to_out[0]
        weight = conv.weight.reshape(conv.out_channels, self.heads, -1)  # (o, heads, e)
        mixed = torch.einsum('ohe,bhde->bohd', weight, context) * (self.scale / (h * w))
        mixed = mixed.reshape(b, conv.out_channels, self.hidden)
        out = torch.baddbmm(conv.bias[:, None], mixed, q.reshape(b, self.hidden, h * w))
        return self.to_out[1](out.view(b, conv.out_channels, h, w))


class FastAttention(FastModule, Attention, literal=Attention):
    """The twin of :class:`.Attention`: the fused scaled-dot-product kernel instead of the
    einsum-softmax-einsum."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        # The fused kernels want the head dimension contiguous; views of the conv output are
        # not, and would send the call to the unfused (math) fallback, which builds the
        # (pixels x pixels) matrix: 6x slower at 600x400 on a CPU.
        q, k, v = (rearrange(part, 'b (h d) x y -> b h (x y) d', h=self.heads).contiguous()
                   for part in self.to_qkv(x).chunk(3, dim=1))
        out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        out = rearrange(out, 'b h (x y) d -> b (h d) x y', x=h, y=w)
        return self.to_out(out)
