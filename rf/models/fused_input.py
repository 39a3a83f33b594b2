"""How a fuser hands the backbone its inputs.

A fuser is called as ``fuser(x_t, condition, mask)`` and returns either

* a tensor, the network input (the ``concat`` fuser): :meth:`Resfusion.network` calls
  ``backbone(input, t - 1)``; or
* a :class:`FusedInput` whose ``context`` holds tokens (B, N, D) for the backbone to attend to
  (the ``cross_attention`` fuser): the call is ``backbone(input, t - 1, context=context)``.

A fuser that returns context declares its token width as the attribute ``context_dim``; a
backbone that accepts context declares the same attribute (``None`` or absent: it takes none).
:func:`check_pairing` compares them when the model is built, so a mismatched pair fails at once
with one clear message instead of deep inside the first forward pass.
"""
from typing import NamedTuple, Optional

import torch


class FusedInput(NamedTuple):
    """The network input plus context tokens (B, N, D) for backbones with cross-attention."""

    input: torch.Tensor
    context: Optional[torch.Tensor] = None


def check_pairing(fuser: torch.nn.Module, backbone: torch.nn.Module) -> None:
    """Raise ``ValueError`` when the fuser's context and the backbone's do not fit together."""
    fuser_dim = getattr(fuser, 'context_dim', None)
    backbone_dim = getattr(backbone, 'context_dim', None)
    fuser_name, backbone_name = type(fuser).__name__, type(backbone).__name__
    if fuser_dim is not None and backbone_dim is None:
        raise ValueError(
            f'The fuser {fuser_name} hands the backbone context tokens of width {fuser_dim}, but '
            f'the backbone {backbone_name} takes no context: build it with '
            f'context_dim={fuser_dim} (ResfusionUNet and TimmUNet accept it), or use '
            f"fuser=dict(type='concat').")
    if backbone_dim is not None and fuser_dim is None:
        raise ValueError(
            f'The backbone {backbone_name} was built with context_dim={backbone_dim} and attends '
            f'to context tokens, but the fuser {fuser_name} provides none: use '
            f"fuser=dict(type='cross_attention', context_dim={backbone_dim}).")
    if fuser_dim is not None and fuser_dim != backbone_dim:
        raise ValueError(f'The fuser {fuser_name} makes context tokens of width {fuser_dim} but '
                         f'the backbone {backbone_name} expects context_dim={backbone_dim}: set '
                         f'both to the same value.')
    in_channels = getattr(backbone, 'in_channels', None)
    out_channels = getattr(backbone, 'out_channels', None)
    if fuser_dim is not None and None not in (in_channels, out_channels) \
            and in_channels != out_channels:
        raise ValueError(
            f'With the fuser {fuser_name}, x_t alone is the network input (the condition is '
            f'attended to, not concatenated), so the backbone {backbone_name} needs '
            f'in_channels={out_channels} (its out_channels), not {in_channels}.')
