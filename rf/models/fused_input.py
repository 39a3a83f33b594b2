"""How a fuser hands the backbone its inputs.

A fuser (a :class:`BaseFuser`) works in two parts: ``encode(condition, mask)`` prepares the
condition once per image (the concatenated condition and encoded mask; or the context tokens of
a cross-attention encoder), and ``fuse(x_t, encoded)`` builds each step's network input. It
returns either

* a tensor, the network input (the ``concat`` fuser): the backbone is called as
  ``backbone(input, t - 1)``; or
* a :class:`FusedInput` whose ``context`` holds tokens (B, N, D) for the backbone to attend to
  (the ``cross_attention`` fuser): the call is ``backbone(input, t - 1, context=context)``.

Sampling encodes once and fuses at each of the T' steps; ``fuser(x_t, condition, mask)`` does
both at once (training, one step per image).

A fuser that returns context declares its token width as the attribute ``context_dim``; a
backbone that accepts context declares the same attribute (``None`` or absent: it takes none).
:func:`check_pairing` compares them when the model is built, so a mismatched pair fails at once
with one clear message instead of deep inside the first forward pass.
"""
from typing import Any, NamedTuple, Optional, Union

import torch


class FusedInput(NamedTuple):
    """The network input plus context tokens (B, N, D) for backbones with cross-attention."""

    input: torch.Tensor
    context: Optional[torch.Tensor] = None


class BaseFuser(torch.nn.Module):
    """The interface of a fuser; subclasses register in ``rf.registry.FUSERS``."""

    def encode(self, condition: Optional[torch.Tensor],
               mask: Optional[torch.Tensor]) -> Any:
        """The condition and mask prepared once per image (whatever :meth:`fuse` needs)."""
        raise NotImplementedError(f'{type(self).__name__} must define encode()')

    def fuse(self, x_t: torch.Tensor, encoded: Any) -> Union[torch.Tensor, FusedInput]:
        """The network input of one step from ``x_t`` and :meth:`encode`'s result."""
        raise NotImplementedError(f'{type(self).__name__} must define fuse()')

    def forward(self, x_t: torch.Tensor, condition: Optional[torch.Tensor] = None,
                mask: Optional[torch.Tensor] = None) -> Union[torch.Tensor, FusedInput]:
        return self.fuse(x_t, self.encode(condition, mask))


def check_pairing(fuser: torch.nn.Module, backbone: torch.nn.Module) -> None:
    """Raise ``ValueError`` when the fuser is no :class:`BaseFuser` or its context and the
    backbone's do not fit together."""
    if not isinstance(fuser, BaseFuser):
        raise TypeError(f'The fuser {type(fuser).__name__} must subclass '
                        'rf.models.fused_input.BaseFuser (encode the condition once per image, '
                        'fuse it with x_t at every step).')
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
