"""The switch between the fast path and the literal formulation that every module of the
RDDM U-Net shares, and the weight cache the fast path keeps."""
import torch


def norm_eps(dtype: torch.dtype) -> float:
    """1e-5 in float32/float64; 1e-3 below (fp16/bf16), where 1e-5 underflows the variance."""
    return 1e-5 if dtype in (torch.float32, torch.float64) else 1e-3


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
        ``load_state_dict`` or ``.to()`` invalidates it."""
        if (not self.fast or (torch.is_grad_enabled() and weight.requires_grad)
                or torch.compiler.is_compiling()):  # a compiled graph fuses it instead
            return compute(weight)
        try:
            key = (weight._version, weight.data_ptr(), weight.device, weight.dtype, tag)
        except RuntimeError:  # an inference-mode tensor has no version counter
            return compute(weight)
        if self._derived is None or self._derived[0] != key:
            # Computed in the weight's own dtype and as an ordinary tensor, whatever the caller
            # runs under: a bf16 result of autocast, or an inference tensor, would break the
            # next call made without them.
            with torch.inference_mode(False), torch.no_grad(), \
                    torch.autocast(weight.device.type, enabled=False):
                self._derived = (key, compute(weight))
        return self._derived[1]
