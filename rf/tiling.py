"""Tiled network calls for images too large to restore in one pass.

At every sampler step the network runs on overlapping tiles of ``x_t`` and of the condition,
one tile at a time, and the tiles' predictions are blended with weights that ramp down towards
each tile's edges. Blending the prediction at every step (rather than restoring each tile on
its own) keeps the reverse process one image, with one noise field and no seams. Outputs differ
from a whole-image pass only by what each tile cannot see: the network's full attention sees a
tile, not the image.
"""
from typing import Callable, Dict, List, Tuple

import torch

#: One sampler step's network call: ``(x_t, t) -> prediction``.
StepFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: Builds the step function of (a tile of) the inputs.
MakeStep = Callable[[Dict[str, torch.Tensor]], StepFn]


def tile_starts(length: int, tile: int, overlap: int) -> List[int]:
    """Start offsets that cover ``[0, length)`` with tiles of ``tile`` overlapping by at least
    ``overlap``; the last tile ends at ``length``."""
    if tile >= length:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def ramp(length: int, overlap: int, device, dtype) -> torch.Tensor:
    """1 in the middle of a tile, falling linearly to 1/(overlap+1) at both edges."""
    position = torch.arange(length, device=device, dtype=dtype)
    edge = torch.minimum(position, length - 1 - position) + 1
    return (edge / (overlap + 1)).clamp(max=1) if overlap > 0 else torch.ones_like(position)


def check_tiling(tile: int, overlap: int, multiple: int = 8) -> None:
    if tile < multiple or tile % multiple:
        raise ValueError(f'tile size {tile} must be a positive multiple of {multiple}.')
    if not 0 <= overlap < tile:
        raise ValueError(f'tile overlap {overlap} must be >= 0 and smaller than the tile ({tile}).')


def tiled_steps(make_step: MakeStep, inputs: Dict[str, torch.Tensor], tile: int,
                overlap: int) -> StepFn:
    """A step function ``(x_t, t) -> prediction`` that runs the network tile by tile over the
    last two dimensions and blends the tiles. ``make_step(part)`` builds the step function of one
    tile's inputs (encoding its condition); it is called once per tile, at the first step."""
    check_tiling(tile, overlap)
    steps: Dict[tuple, StepFn] = {}

    def crop(window) -> Dict[str, torch.Tensor]:
        return {key: value[window] if torch.is_tensor(value) and value.dim() == 4 else value
                for key, value in inputs.items()}

    def run(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        height, width = x_t.shape[-2:]
        if tile >= height and tile >= width:
            if 'whole' not in steps:
                steps['whole'] = make_step(inputs)
            return steps['whole'](x_t, t)
        output, total = None, None
        for top, tile_h in _spans(height, tile, overlap):
            for left, tile_w in _spans(width, tile, overlap):
                window = (..., slice(top, top + tile_h), slice(left, left + tile_w))
                key = (top, tile_h, left, tile_w)
                if key not in steps:
                    steps[key] = make_step(crop(window))
                prediction = steps[key](x_t[window], t)
                if output is None:
                    output = prediction.new_zeros(*prediction.shape[:-2], height, width)
                    total = prediction.new_zeros(height, width)
                weight = (ramp(tile_h, overlap, x_t.device, prediction.dtype)[:, None]
                          * ramp(tile_w, overlap, x_t.device, prediction.dtype)[None, :])
                output[window] += prediction * weight
                total[window[1:]] += weight
        return output / total
    return run


def _spans(length: int, tile: int, overlap: int) -> List[Tuple[int, int]]:
    size = min(tile, length)
    return [(start, size) for start in tile_starts(length, size, overlap)]
