"""``convert`` and ``revert``: swap every literal module of a network for its fast twin and back,
in place, by changing the module's ``__class__``.

A twin subclasses its literal class and adds no parameter or buffer, so a converted network
keeps the very same Parameter objects under the same names: its state dict (keys and values),
an optimizer built on it, an EMA copy and any hooks are unchanged. Only ``forward`` changes,
to shortcuts that leave the output equal up to rounding (tests/plugins/backbones/test_fast_path.py)."""
import contextlib
from typing import Iterator, Optional

from torch import nn

# The twins register themselves in TWINS when their modules are imported.
from rf_plugins.backbones.resfusion_unet.fast import attention, convolutions, layers  # noqa: F401
from rf_plugins.backbones.resfusion_unet.fast.base import TWINS, FastModule
from rf_plugins.backbones.resfusion_unet.fast.convolutions import FastConv2d


def check_winograd_min_channels(value: Optional[int]) -> Optional[int]:
    """``value`` if it is a positive int or None, else a ValueError."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f'winograd_min_channels must be a positive int or None, got {value!r}.')
    return value


def convert(net: nn.Module, winograd_min_channels: Optional[int] = 128) -> nn.Module:
    """Turn every module of ``net`` (``net`` included) whose class has a fast twin into that
    twin, in place, and return ``net``. Modules of other classes, and subclasses of the literal
    ones, are left alone; already converted modules stay converted. ``winograd_min_channels``
    (see :class:`.FastConv2d`) is set on every 3x3 convolution; ``None`` keeps them direct."""
    check_winograd_min_channels(winograd_min_channels)
    for module in list(net.modules()):
        twin = TWINS.get(type(module))
        if twin is not None:
            module.__class__ = twin
        if isinstance(module, FastConv2d):
            module.winograd_min_channels = winograd_min_channels
    return net


def revert(net: nn.Module) -> nn.Module:
    """Turn every fast twin in ``net`` back into its literal class, in place, dropping what the
    twin kept on the instance (caches, settings); return ``net``."""
    for module in list(net.modules()):
        if isinstance(module, FastModule):
            for name in type(module).fast_state:
                module.__dict__.pop(name, None)
            module.__class__ = type(module).literal_class
    return net


def is_fast(net: nn.Module) -> bool:
    """Whether ``net`` holds any fast twin."""
    return any(isinstance(module, FastModule) for module in net.modules())


def clear_weight_caches(net: nn.Module) -> None:
    """Forget the weights the twins derived (standardised, Winograd, transposed kernels). Their
    key (version counter, storage) misses writes through ``param.data``, as MMEngine's EMAHook
    swaps weights, so a restoration starts by calling this."""
    for module in net.modules():
        if isinstance(module, FastModule):
            module._derived = None


@contextlib.contextmanager
def winograd_off(net: nn.Module) -> Iterator[nn.Module]:
    """A context in which ``net``'s 3x3 convolutions are direct ones, as in a compiled graph
    (the Winograd route runs only in eager mode); each keeps its setting afterwards."""
    convs = [module for module in net.modules() if isinstance(module, FastConv2d)]
    saved = [conv.winograd_min_channels for conv in convs]
    for conv in convs:
        conv.winograd_min_channels = None
    try:
        yield net
    finally:
        for conv, value in zip(convs, saved):
            conv.winograd_min_channels = value
