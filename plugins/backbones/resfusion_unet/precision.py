"""The precision rules of the RDDM U-Net's normalisations (weight standardisation, channel
LayerNorm) under mixed precision. The literal modules and their fast twins apply the same rules,
so both compute the same function whatever autocast does."""
import contextlib

import torch


def norm_eps(dtype: torch.dtype) -> float:
    """The epsilon of the normalisations for parameters of ``dtype``: 1e-5 in float32/float64;
    1e-3 below (fp16/bf16), where 1e-5 underflows the variance.

    Callers pass the dtype of the module's *parameter* (the authors pass the activation's), so
    that autocast, which lowers activations but leaves fp32 parameters alone, does not switch
    an fp32-trained network to another epsilon: with the weights' variance near 1e-4 (a 3x3
    convolution over 256 channels at PyTorch's initialisation), 1e-3 instead of 1e-5 shrinks
    a standardised weight to about a third."""
    return 1e-5 if dtype in (torch.float32, torch.float64) else 1e-3


def norm_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the normalisation statistics are computed in: float32 for fp16/bf16 (whose
    8 or 11 mantissa bits lose the variance of nearly equal values), the dtype itself from
    float32 up, so float32 keeps its exact operations."""
    return torch.promote_types(dtype, torch.float32)


def autocast_off(device_type: str):
    """A context that suspends autocast on ``device_type`` while it is on (a no-op context
    otherwise): the normalisations compute their statistics in :func:`norm_dtype`, which
    autocast would lower again inside matrix products."""
    if torch.is_autocast_enabled(device_type):
        return torch.autocast(device_type, enabled=False)
    return contextlib.nullcontext()
