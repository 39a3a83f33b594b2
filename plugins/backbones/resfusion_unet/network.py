"""ResfusionUNet: the RDDM U-Net of the paper, weight-compatible with the authors' checkpoints.

The network is written literally, as the authors' code computes it; its fast path is a
conversion (:mod:`.fast`) that swaps modules for twins with the same parameters."""
import contextlib
import copy
from typing import Iterator, Optional, Sequence

import torch
from torch import nn

from rf.nn import ContextAttention, SinusoidalPosEmb, prepare_unet_input
from rf_plugins.backbones.resfusion_unet import fast
from rf_plugins.backbones.resfusion_unet.attention import Attention, LinearAttention
from rf_plugins.backbones.resfusion_unet.convolutions import UpsampleConv
from rf_plugins.backbones.resfusion_unet.layers import PreNorm, Residual, ResnetBlock


class ResfusionUNet(nn.Module):
    """The paper's denoising network (docs/design.md §2.1).

    Args:
        dim: base width ``d``; level ``i`` has ``d·dim_mults[i]`` channels.
        dim_mults: width multipliers of the levels (each level but the last halves the size).
        in_channels: channels of the fused input (6 for x_t + image, 8 with the ISTD mask).
        out_channels: channels of the prediction.
        groups: GroupNorm groups in the residual blocks.
        attn_heads, attn_dim_head: heads and width per head of both attentions.
        fast_path: convert the network to its fast twins (:func:`.fast.convert`), which take
            shortcuts that leave the output equal up to rounding (1e-5 relative): standardised
            weights computed once while the weights do not change, the fused attention kernel,
            GroupNorm with the time scale/shift folded in, the upsampling pair as one
            transposed conv, in-place ops when no gradient is needed. Parameters and state-dict
            keys are the same either way. ``False`` keeps the literal network, which computes
            docs/design.md §2.1 as the authors' code does (the benchmark reference,
            :meth:`literal`).
        context_dim: ``None`` (default, the paper's network): no cross-attention. An int adds
            :class:`ContextAttention` blocks that attend to context tokens (B, N, context_dim)
            from the ``cross_attention`` fuser: after the middle attention and after the linear
            attention of the down and up stages of each level in ``context_levels``. They live
            under ``context_attns.*``, so the default network's state dict stays the authors'.
        context_levels: levels (0 = full resolution, negative counts from the deepest) that get
            cross-attention besides the middle; the default, the deepest level, runs at the
            middle's resolution (1/8 with four levels), where attention is cheap.
        winograd_min_channels: on the fast path, in float32 CPU inference (no gradient, not
            compiled), the 3x3 convolutions with at least this many input and output channels
            run as Winograd F(4x4, 3x3) (:mod:`.fast.winograd`): a quarter of the multiply-adds,
            outputs within about 4e-6 of the output's scale. The default, 128, takes the levels
            below full resolution, where it is faster on CPUs; ``None`` keeps the direct
            convolution everywhere.

    ``forward(x, t, context=None)`` takes the fused input (B, in_channels, H, W), the 0-based step
    index (shape (B,)) and, with ``context_dim``, the context tokens. Sizes that are not a
    multiple of ``2**(len(dim_mults)-1)`` are reflect-padded and the output is cropped back.

    For tools that compare or count (rf/cli/benchmarking.py), the network offers the optional
    backbone protocol: :meth:`literal` (a literal copy) and :meth:`as_compiled`.
    """

    def __init__(self, dim: int = 64, dim_mults: Sequence[int] = (1, 2, 4, 8), in_channels: int = 6,
                 out_channels: int = 3, groups: int = 8, attn_heads: int = 4,
                 attn_dim_head: int = 32, fast_path: bool = True,
                 context_dim: Optional[int] = None, context_levels: Sequence[int] = (-1,),
                 winograd_min_channels: Optional[int] = 128) -> None:
        super().__init__()
        if dim % groups:
            raise ValueError(f'dim={dim} must be a multiple of groups={groups} (GroupNorm).')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.size_multiple = 2 ** (len(dim_mults) - 1)
        self.init_conv = nn.Conv2d(in_channels, dim, 7, padding=3)
        time_dim = dim * 4
        self.time_mlp = nn.Sequential(SinusoidalPosEmb(dim), nn.Linear(dim, time_dim), nn.GELU(),
                                      nn.Linear(time_dim, time_dim))

        dims = [dim, *(dim * m for m in dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        n = len(in_out)

        def block(c_in: int, c_out: int) -> ResnetBlock:
            return ResnetBlock(c_in, c_out, time_emb_dim=time_dim, groups=groups)

        def linear_attn(c: int) -> nn.Module:
            return Residual(PreNorm(c, LinearAttention(c, attn_heads, attn_dim_head)))

        self.downs = nn.ModuleList()
        for i, (c_in, c_out) in enumerate(in_out):
            last = i == n - 1
            downsample = (nn.Conv2d(c_in, c_out, 3, padding=1) if last
                          else nn.Conv2d(c_in, c_out, 4, 2, 1))
            self.downs.append(nn.ModuleList([
                block(c_in, c_in), block(c_in, c_in), linear_attn(c_in), downsample,
            ]))

        self.ups = nn.ModuleList()
        for i, (c_in, c_out) in enumerate(reversed(in_out)):
            last = i == n - 1
            upsample = (nn.Conv2d(c_out, c_in, 3, padding=1) if last
                        else UpsampleConv(c_out, c_in))
            self.ups.append(nn.ModuleList([
                block(c_out + c_in, c_out), block(c_out + c_in, c_out), linear_attn(c_out), upsample,
            ]))

        # The middle is created after the ups so that the state-dict order is the authors'.
        mid = dims[-1]
        self.mid_block1 = block(mid, mid)
        self.mid_attn = Residual(PreNorm(mid, Attention(mid, attn_heads, attn_dim_head)))
        self.mid_block2 = block(mid, mid)
        self.final_res_block = block(dim * 2, dim)
        self.final_conv = nn.Conv2d(dim, out_channels, 1)
        self.context_dim = context_dim
        if context_dim is not None:
            self.context_attns = self._context_attentions(dims, context_dim, context_levels,
                                                          attn_heads, attn_dim_head)
        self.winograd_min_channels = fast.check_winograd_min_channels(winograd_min_channels)
        if fast_path:
            fast.convert(self, winograd_min_channels)

    @staticmethod
    def _context_attentions(dims, context_dim, levels, heads, dim_head) -> nn.ModuleDict:
        """``{'mid': ..., 'down<i>': ..., 'up<i>': ...}`` cross-attention blocks."""
        n = len(dims) - 1
        blocks = {'mid': ContextAttention(dims[-1], context_dim, heads, dim_head)}
        for level in levels:
            if not -n <= level < n:
                raise ValueError(f'ResfusionUNet: context level {level} out of range for '
                                 f'{n} levels (use 0..{n - 1} or negative from the deepest).')
            level %= n
            blocks[f'down{level}'] = ContextAttention(dims[level], context_dim, heads, dim_head)
            blocks[f'up{level}'] = ContextAttention(dims[level + 1], context_dim, heads, dim_head)
        return nn.ModuleDict(blocks)

    @property
    def fast_path(self) -> bool:
        """Whether the network runs its fast twins (:func:`.fast.convert`)."""
        return fast.is_fast(self)

    def set_fast_path(self, enabled: bool) -> 'ResfusionUNet':
        """Convert the network to its fast twins (with :attr:`winograd_min_channels`) or
        revert it to the literal modules, in place; the parameters stay the same objects."""
        if enabled:
            return fast.convert(self, self.winograd_min_channels)
        return fast.revert(self)

    def set_winograd_min_channels(self, value: Optional[int]) -> 'ResfusionUNet':
        """Set ``winograd_min_channels`` (see the class docstring), on the fast twins too."""
        self.winograd_min_channels = fast.check_winograd_min_channels(value)
        return self.set_fast_path(True) if self.fast_path else self

    def clear_weight_caches(self) -> None:
        """Forget the weights derived on the fast path (:func:`.fast.clear_weight_caches`):
        the Resfusion model calls this before every restoration, since EMA swaps weights
        through ``param.data``, which the caches' keys do not see."""
        fast.clear_weight_caches(self)

    def literal(self) -> 'ResfusionUNet':
        """A copy of this network that computes docs/design.md §2.1 literally, as the authors'
        code does, with the same parameter names and values (the backbone protocol's
        reference for ``tools/benchmark.py --compare-plain``)."""
        return fast.revert(copy.deepcopy(self))

    @contextlib.contextmanager
    def as_compiled(self) -> Iterator['ResfusionUNet']:
        """A context in which this eager network computes what torch.compile's graph of it
        computes (the backbone protocol, for counting a compiled network's MACs): direct 3x3
        convolutions, since the Winograd route runs only in eager mode."""
        with fast.winograd_off(self):
            yield self

    def forward(self, x: torch.Tensor, t: torch.Tensor,
                context: Optional[torch.Tensor] = None) -> torch.Tensor:
        x, t, (height, width) = prepare_unet_input('ResfusionUNet', x, t, context, self.in_channels,
                                                   self.context_dim, self.size_multiple)
        return self._forward_padded(x, t, context)[..., :height, :width]

    def _attend(self, where: str, x: torch.Tensor, context: Optional[torch.Tensor]) -> torch.Tensor:
        """The cross-attention block at ``where``, if this network has one there."""
        if context is None or where not in self.context_attns:
            return x
        return self.context_attns[where](x, context)

    def _forward_padded(self, x: torch.Tensor, t: torch.Tensor,
                        context: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = self.init_conv(x)
        # The authors keep a clone; nothing writes into x in place (the fast twins only write
        # into tensors they made), so the value is the same.
        r = x
        if not self.training and t.numel() > 1 and bool((t == t[0]).all()):
            # A batch that shares its step (sampling always does) gets one embedding row,
            # broadcast by the blocks: less work, and outputs that do not depend on the batch
            # size (a 1-row matmul runs another kernel than a B-row one). Not while training,
            # where the steps differ and the comparison would cost a GPU sync every iteration.
            t = t[:1]
        emb = self.time_mlp(t)
        skips = []
        for level, (block1, block2, attn, downsample) in enumerate(self.downs):
            x = block1(x, emb)
            skips.append(x)
            x = self._attend(f'down{level}', attn(block2(x, emb)), context)
            skips.append(x)
            x = downsample(x)
        x = self._attend('mid', self.mid_attn(self.mid_block1(x, emb)), context)
        x = self.mid_block2(x, emb)
        for level, (block1, block2, attn, upsample) in zip(reversed(range(len(self.ups))),
                                                           self.ups):
            x = block1(torch.cat((x, skips.pop()), dim=1), emb)
            x = self._attend(f'up{level}', attn(block2(torch.cat((x, skips.pop()), dim=1), emb)),
                             context)
            x = upsample(x)
        x = self.final_res_block(torch.cat((x, r), dim=1), emb)
        return self.final_conv(x)
