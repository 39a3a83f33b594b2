"""How the network runs while sampling: mixed precision (autocast) and the channels-last layout.

Both are for GPUs (tensor cores want fp16/bf16 in channels-last); on this CPU bf16 is emulated
and about 50x slower (docs/design.md §7), so the defaults are off. Only the network call is affected:
the sampler's arithmetic between steps stays in float32.
"""
from contextlib import nullcontext
from typing import Dict, Optional

import torch

AUTOCAST_DTYPES = {'fp16': torch.float16, 'bf16': torch.bfloat16}


def is_channels_last(module: torch.nn.Module) -> bool:
    """Whether every 4-D weight of ``module`` is stored channels-last."""
    return all(p.is_contiguous(memory_format=torch.channels_last)
               for p in module.parameters() if p.dim() == 4)


class SamplingPrecision:
    """``autocast``: None, ``'fp16'`` or ``'bf16'``; ``channels_last``: run the backbone and its
    inputs in the channels-last memory format."""

    def __init__(self, autocast: Optional[str] = None, channels_last: bool = False) -> None:
        if autocast is not None and autocast not in AUTOCAST_DTYPES:
            raise ValueError(f'sampler autocast={autocast!r}: choose None, '
                             f'{", ".join(map(repr, AUTOCAST_DTYPES))}.')
        self.autocast = autocast
        self.channels_last = bool(channels_last)

    @property
    def active(self) -> bool:
        return self.autocast is not None or self.channels_last

    def prepare(self, backbone: torch.nn.Module) -> None:
        """Put the backbone's weights in the chosen layout, once, when the model is built: then
        the DDP wrapper and the optimizer see them so from the start, and no validation changes
        the layout of a live, distributed model (each conversion would also copy every
        weight). A no-op when the layout is already right."""
        if self.channels_last and not is_channels_last(backbone):
            backbone.to(memory_format=torch.channels_last)

    def layout(self, value):
        """A 4-D tensor in the chosen memory format; anything else unchanged."""
        if self.channels_last and torch.is_tensor(value) and value.dim() == 4:
            return value.contiguous(memory_format=torch.channels_last)
        return value

    def layout_inputs(self, inputs: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return {key: self.layout(value) for key, value in inputs.items()} \
            if self.channels_last else inputs

    def context(self, device_type: str):
        """Autocast to the chosen dtype on ``device_type``, or nothing."""
        return (torch.autocast(device_type, dtype=AUTOCAST_DTYPES[self.autocast])
                if self.autocast else nullcontext())

    def finish(self, prediction: torch.Tensor) -> torch.Tensor:
        """The network's output as the sampler wants it: float32, contiguous."""
        return prediction.float().contiguous() if self.active else prediction
