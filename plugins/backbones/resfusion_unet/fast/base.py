"""What every fast twin shares: the literal class it stands in for, the rule for in-place
operations, and the cache of weights derived from a parameter (standardised, transformed).

A fast twin is a subclass of its literal class that adds no parameter or buffer: it only
overrides ``forward`` (or a helper of it). :func:`.conversion.convert` turns a literal module
into its twin by changing its ``__class__``, so the module keeps its parameters, buffers, hooks
and state-dict keys; :func:`.conversion.revert` changes it back."""
import torch

from rf_plugins.backbones.resfusion_unet.precision import autocast_off

#: literal class -> its fast twin, filled as the twins are defined.
TWINS = {}


class FastModule:
    """Mixin of the fast twins. A subclass names the class it stands in for::

        class FastBlock(FastModule, Block, literal=Block): ...

    Attributes a twin sets on an instance (a cache, a setting) are listed in ``fast_state``,
    so that reverting leaves the literal module as it was built."""

    literal_class = None
    fast_state = ('_derived',)
    _derived = None

    def __init_subclass__(cls, literal=None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if literal is None:
            raise TypeError(f'{cls.__name__}: name the literal class it stands in for '
                            '(class X(FastModule, Literal, literal=Literal)).')
        if not issubclass(cls, literal):
            raise TypeError(f'{cls.__name__} must subclass its literal class '
                            f'{literal.__name__}, so that it keeps its parameters.')
        if literal in TWINS:
            raise TypeError(f'{literal.__name__} already has a fast twin, '
                            f'{TWINS[literal].__name__}.')
        cls.literal_class = literal
        TWINS[literal] = cls

    @staticmethod
    def may_overwrite() -> bool:
        """In-place ops are safe only when autograd keeps no inputs for a backward pass."""
        return not torch.is_grad_enabled()

    def derived_weight(self, weight: torch.Tensor, compute, tag=None) -> torch.Tensor:
        """``compute(weight)``, computed once while the weight is unchanged and needs no
        gradient (sampling runs T' network calls on the same weights). The cache is keyed on
        the weight's version counter and storage, so an optimizer step, ``load_state_dict`` or
        ``.to()`` invalidates it; writes through ``param.data`` do not, hence
        :func:`.conversion.clear_weight_caches`.

        Cached or not, ``compute`` runs without autocast, in the weight's own dtype: the
        operation that applies the result casts it as autocast would cast the weight, so the
        cache holds one result per weight whether it was filled with autocast on or off."""
        if ((torch.is_grad_enabled() and weight.requires_grad)
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
