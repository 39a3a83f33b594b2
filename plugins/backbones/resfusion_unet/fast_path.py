"""The switch between the fast path and the literal formulation that every module of the
RDDM U-Net shares, the weight cache the fast path keeps, and the precision rules of the
normalisations (weight standardisation, channel LayerNorm) under mixed precision."""
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


class FastPathMixin:
    """A ``fast`` switch (set by :meth:`ResfusionUNet.set_fast_path`): on, a module takes the
    shortcuts that leave its output equal to the plain formulation up to rounding; off, it computes
    DESIGN §2 literally, as the authors' code does (the reference for benchmarks and tests)."""

    fast = True
    _derived = None

    @staticmethod
    def may_overwrite() -> bool:
        """In-place ops are safe only when autograd keeps no inputs for a backward pass."""
        return not torch.is_grad_enabled()

    def derived_weight(self, weight: torch.Tensor, compute, tag=None) -> torch.Tensor:
        """``compute(weight)``, computed once on the fast path while the weight is unchanged and
        needs no gradient (sampling runs T' network calls on the same weights). The cache is
        keyed on the weight's version counter and storage, so an optimizer step,
        ``load_state_dict`` or ``.to()`` invalidates it.

        Cached or not, ``compute`` runs without autocast, in the weight's own dtype: the
        operation that applies the result casts it as autocast would cast the weight, so the
        cache holds one result per weight whether it was filled with autocast on or off."""
        if (not self.fast or (torch.is_grad_enabled() and weight.requires_grad)
                or torch.compiler.is_compiling()):  # a compiled graph fuses it instead
            with autocast_off(weight.device.type):
                return compute(weight)
        try:
            key = (weight._version, weight.data_ptr(), weight.device, weight.dtype, tag)
        except RuntimeError:  # an inference-mode tensor has no version counter
            with autocast_off(weight.device.type):
                return compute(weight)
        if self._derived is None or self._derived[0] != key:
            # An ordinary tensor, whatever the caller runs under: an inference tensor would
            # break the next call made with autograd.
            with torch.inference_mode(False), torch.no_grad(), autocast_off(weight.device.type):
                self._derived = (key, compute(weight))
        return self._derived[1]
