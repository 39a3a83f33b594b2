"""The U-Net that DDPM and DDIM use for CIFAR-10, and that Resfusion uses for generation.

At the CIFAR-10 settings (the defaults: 128 channels, multipliers (1, 2, 2, 2), 2 residual blocks
per level, attention at 16x16, dropout 0.1) it has 35,746,307 parameters, DDPM's "35.7M". The
state-dict keys follow the DDIM code's layout (``temb.dense.0``, ``down.1.attn.0.q``,
``mid.block_1``, ``up.0.block.2.nin_shortcut``, ...), so weights saved by that layout load as
they are.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rf_plugins.backbones.ddim_unet.layers import (
    AttnBlock,
    Downsample,
    ResnetBlock,
    Upsample,
    group_norm,
    step_embedding,
)


class DDIMUNet(nn.Module):
    """``DDIMUNet(x, t)``: the DDPM/DDIM CIFAR-10 U-Net on inputs (B, in_channels, H, W).

    Args:
        in_channels: channels of the fused input (3 for generation: ``x_t`` alone; 6 when a
            ``concat`` fuser adds a 3-channel condition).
        out_channels: channels of the prediction.
        ch: base width; level ``i`` has ``ch * ch_mult[i]`` channels, the step embedding ``4·ch``.
        ch_mult: width multipliers, one level each; every level but the last halves the size.
        num_res_blocks: residual blocks per level on the way down (one more on the way up).
        attn_resolutions: feature-map sizes, relative to ``resolution``, that get self-attention
            after each residual block (the middle always has one).
        dropout: dropout inside the residual blocks.
        resolution: the training image size, which places the attention levels.
        resamp_with_conv: convolutions in the down- and upsampling (else pooling / plain nearest).
        norm_groups: GroupNorm groups (32 in DDPM; smaller for tiny test networks).

    Inputs must have height and width divisible by ``2 ** (len(ch_mult) - 1)``.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ch: int = 128,
                 ch_mult: Sequence[int] = (1, 2, 2, 2), num_res_blocks: int = 2,
                 attn_resolutions: Sequence[int] = (16,), dropout: float = 0.1,
                 resolution: int = 32, resamp_with_conv: bool = True,
                 norm_groups: int = 32) -> None:
        super().__init__()
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.ch = int(ch)
        self.ch_mult = tuple(int(m) for m in ch_mult)
        self.num_res_blocks = int(num_res_blocks)
        self.size_divisor = 2 ** (len(self.ch_mult) - 1)
        temb_ch = 4 * self.ch

        def block(c_in: int, c_out: int) -> ResnetBlock:
            return ResnetBlock(c_in, c_out, temb_ch, dropout, norm_groups)

        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(self.ch, temb_ch), nn.Linear(temb_ch, temb_ch)])
        self.conv_in = nn.Conv2d(self.in_channels, self.ch, 3, padding=1)

        widths = [self.ch * m for m in self.ch_mult]
        skips = [self.ch]  # widths of the saved activations, in the order they are saved
        size, width = int(resolution), self.ch
        self.down = nn.ModuleList()
        for level, level_width in enumerate(widths):
            stage = nn.Module()
            stage.block, stage.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(self.num_res_blocks):
                stage.block.append(block(width, level_width))
                width = level_width
                if size in attn_resolutions:
                    stage.attn.append(AttnBlock(width, norm_groups))
                skips.append(width)
            if level != len(widths) - 1:
                stage.downsample = Downsample(width, resamp_with_conv)
                skips.append(width)
                size //= 2
            self.down.append(stage)

        self.mid = nn.Module()
        self.mid.block_1 = block(width, width)
        self.mid.attn_1 = AttnBlock(width, norm_groups)
        self.mid.block_2 = block(width, width)

        up_stages = []
        for level in reversed(range(len(widths))):
            stage = nn.Module()
            stage.block, stage.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(self.num_res_blocks + 1):
                stage.block.append(block(width + skips.pop(), widths[level]))
                width = widths[level]
                if size in attn_resolutions:
                    stage.attn.append(AttnBlock(width, norm_groups))
            if level != 0:
                stage.upsample = Upsample(width, resamp_with_conv)
                size *= 2
            up_stages.insert(0, stage)  # up[i] works at the size of down[i]
        self.up = nn.ModuleList(up_stages)

        self.norm_out = group_norm(width, norm_groups)
        self.conv_out = nn.Conv2d(width, self.out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x`` (B, in_channels, H, W), ``t`` the 0-based steps (B,) -> (B, out_channels, H, W)."""
        self._check_input(x)
        temb = step_embedding(t.reshape(-1).expand(x.shape[0]) if t.numel() == 1 else t, self.ch)
        temb = self.temb.dense[1](F.silu(self.temb.dense[0](temb.to(x.dtype))))

        saved = [self.conv_in(x)]
        h = saved[-1]
        for stage in self.down:
            for i, res_block in enumerate(stage.block):
                h = res_block(h, temb)
                if len(stage.attn):
                    h = stage.attn[i](h)
                saved.append(h)
            if hasattr(stage, 'downsample'):
                h = stage.downsample(h)
                saved.append(h)

        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h, temb)), temb)

        for stage in reversed(self.up):
            for i, res_block in enumerate(stage.block):
                h = res_block(torch.cat([h, saved.pop()], dim=1), temb)
                if len(stage.attn):
                    h = stage.attn[i](h)
            if hasattr(stage, 'upsample'):
                h = stage.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'DDIMUNet expects (B, {self.in_channels}, H, W) inputs, got '
                             f'{tuple(x.shape)}: set in_channels to the fused input\'s channels '
                             f'(3 for generation, 6 with a concat condition).')
        height, width = x.shape[-2:]
        if height % self.size_divisor or width % self.size_divisor:
            raise ValueError(f'DDIMUNet with {len(self.ch_mult)} levels needs height and width '
                             f'divisible by {self.size_divisor}, got {height}x{width}.')

    @staticmethod
    def count_parameters(**kwargs) -> int:
        """Parameters of ``DDIMUNet(**kwargs)`` without allocating its weights (meta device)."""
        with torch.device('meta'):
            return sum(p.numel() for p in DDIMUNet(**kwargs).parameters())


__all__ = ['DDIMUNet']
