"""The fast path of the RDDM U-Net, as a conversion of the literal network.

The literal modules (:mod:`..layers`, :mod:`..attention`, :mod:`..convolutions`) compute the
paper's formulation as the authors' code does. Each has a fast twin here: a subclass with the
same parameters whose ``forward`` takes shortcuts that leave the output equal up to rounding
(docs/benchmarks.md lists them). :func:`convert` installs the twins in place, :func:`revert`
restores the literal modules; ``ResfusionUNet(fast_path=True)`` (the default) converts itself.

* :mod:`.base`: what every twin shares (the literal class, in-place rule, weight cache);
* :mod:`.convolutions`, :mod:`.layers`, :mod:`.attention`: the twins;
* :mod:`.winograd`: Winograd F(4x4, 3x3) for the wide 3x3 convolutions on CPUs;
* :mod:`.conversion`: :func:`convert`, :func:`revert` and the helpers around them.
"""
from rf_plugins.backbones.resfusion_unet.fast.conversion import (
                                                                check_winograd_min_channels,
                                                                clear_weight_caches,
                                                                convert,
                                                                is_fast,
                                                                revert,
                                                                winograd_off,
)

__all__ = ['convert', 'revert', 'is_fast', 'clear_weight_caches', 'winograd_off',
           'check_winograd_min_channels']
