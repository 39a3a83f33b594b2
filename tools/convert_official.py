#!/usr/bin/env python
"""Convert an authors' Resfusion (Lightning) checkpoint into an rf checkpoint.

The authors store their U-Net under ``state_dict`` with the prefix ``denoising_module.``. This tool
keeps exactly those weights, checks them against ``ResfusionUNet`` (architecture inferred from the
shapes, strict loading) and writes ``{'state_dict': ..., 'meta': ...}`` with the keys under
``--prefix`` (default ``backbone.``, where rf's model keeps its backbone; ``--prefix ''`` writes the
bare backbone state dict).

Example:
    python tools/convert_official.py resfusion_lol.ckpt lol_resfusion_rf.pth
"""
import argparse
import os
import sys
from typing import Dict

import torch

from rf.checkpoint import UnsafeCheckpointError, load_checkpoint_file

SOURCE_PREFIX = 'denoising_module.'
LICENCE_NOTE = ("note: converted weights are derived from the authors' checkpoint and keep its "
                "licence (CC BY-NC-SA 4.0 on github.com/nkicsl/Resfusion: non-commercial use, "
                "attribution, same licence for derivatives); see NOTICE.")


class ConversionError(ValueError):
    """The input is not an authors' checkpoint rf can convert."""


def extract_backbone(checkpoint, source: str) -> Dict[str, torch.Tensor]:
    if not isinstance(checkpoint, dict):
        raise ConversionError(f'{source}: expected a dict checkpoint, got {type(checkpoint).__name__}.')
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise ConversionError(f"{source}: 'state_dict' is a {type(state).__name__}, not a dict.")
    weights = {k[len(SOURCE_PREFIX):]: v for k, v in state.items() if k.startswith(SOURCE_PREFIX)}
    if not weights:
        prefixes = sorted({k.split('.', 1)[0] for k in state})[:10]
        raise ConversionError(f"{source}: no key starts with {SOURCE_PREFIX!r} (top-level names "
                              f"found: {prefixes}). Is this an authors' Resfusion checkpoint?")
    return weights


def infer_unet_config(weights: Dict[str, torch.Tensor], source: str) -> dict:
    """``ResfusionUNet`` arguments from the shapes of its weights."""
    try:
        dim, in_channels = weights['init_conv.weight'].shape[:2]
        out_channels = weights['final_conv.weight'].shape[0]
        levels = sorted({int(k.split('.')[1]) for k in weights if k.startswith('downs.')})
        widths = [weights[f'downs.{i}.0.block1.proj.weight'].shape[0] for i in levels]
        widths.append(weights['mid_block1.block1.proj.weight'].shape[0])
    except KeyError as exc:
        raise ConversionError(f'{source}: the U-Net weights lack {exc.args[0]!r}; this is not '
                              'the paper\'s RDDM U-Net.') from None
    return dict(dim=int(dim), dim_mults=tuple(int(w) // int(dim) for w in widths[1:]),
                in_channels=int(in_channels), out_channels=int(out_channels))


def convert(src: str, dst: str, prefix: str = 'backbone.', overwrite: bool = False) -> dict:
    """Convert ``src`` to ``dst``; returns the inferred ``ResfusionUNet`` config."""
    if os.path.abspath(src) == os.path.abspath(dst):
        raise ConversionError('The output path is the input path; refusing to overwrite the input.')
    if os.path.exists(dst) and not overwrite:
        raise ConversionError(f'{dst} exists; pass --overwrite to replace it.')
    weights = extract_backbone(load_checkpoint_file(src), src)
    config = infer_unet_config(weights, src)
    from rf_plugins.backbones.resfusion_unet import ResfusionUNet
    try:
        ResfusionUNet(**config).load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ConversionError(f'{src}: the weights do not fit ResfusionUNet({config}): '
                              f'{str(exc).splitlines()[0]} ...') from None
    out = {'state_dict': {prefix + k: v for k, v in weights.items()},
           'meta': {'converted_from': os.path.basename(src), 'backbone': dict(
               type='ResfusionUNet', **config)}}
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    torch.save(out, dst)
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help="the authors' Lightning checkpoint (.ckpt)")
    parser.add_argument('dst', help='where to write the rf checkpoint (.pth)')
    parser.add_argument('--prefix', default='backbone.',
                        help="key prefix in the output (default 'backbone.'; '' for bare weights)")
    parser.add_argument('--overwrite', action='store_true', help='replace dst if it exists')
    args = parser.parse_args(argv)
    try:
        config = convert(args.src, args.dst, args.prefix, args.overwrite)
    except (ConversionError, UnsafeCheckpointError, FileNotFoundError, RuntimeError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(f'wrote {args.dst}: ResfusionUNet({", ".join(f"{k}={v}" for k, v in config.items())})')
    print(LICENCE_NOTE)
    return 0


if __name__ == '__main__':
    sys.exit(main())
