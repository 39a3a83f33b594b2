"""How the network runs while sampling: mixed precision (autocast) and the channels-last layout.

Both are for GPUs (tensor cores want fp16/bf16 in channels-last); on this CPU bf16 is emulated
and about 50x slower (DESIGN §5), so the defaults are off. Only the network call is affected:
the sampler's arithmetic between steps stays in float32.
"""
from contextlib import nullcontext
from typing import Callable, Dict, Optional

import torch

AUTOCAST_DTYPES = {'fp16': torch.float16, 'bf16': torch.bfloat16}
NetworkFn = Callable[[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]], torch.Tensor]


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
        weight)."""
        if self.channels_last and not is_channels_last(backbone):
            backbone.to(memory_format=torch.channels_last)

    def wrap(self, network: NetworkFn, backbone: torch.nn.Module) -> NetworkFn:
        """``network`` run under the chosen precision and layout, returning float32."""
        if not self.active:
            return network
        self.prepare(backbone)  # a no-op unless the setting changed after the model was built

        def run(x_t: torch.Tensor, t: torch.Tensor, inputs: Dict[str, torch.Tensor]):
            if self.channels_last:
                x_t = x_t.contiguous(memory_format=torch.channels_last)
                inputs = {key: value.contiguous(memory_format=torch.channels_last)
                          if torch.is_tensor(value) and value.dim() == 4 else value
                          for key, value in inputs.items()}
            context = (torch.autocast(x_t.device.type, dtype=AUTOCAST_DTYPES[self.autocast])
                       if self.autocast else nullcontext())
            with context:
                prediction = network(x_t, t, inputs)
            return prediction.float().contiguous()
        return run
