"""Evaluation protocols: one per evaluation script of the paper's authors.

The core holds what is generic: :class:`EvalProtocol` and its helpers (``base``), the shared
PSNR/SSIM computations (``scores``) and the generic ``rgb`` protocol. A protocol named after a
dataset lives in that dataset's plugin (``lol``, ``lol_256``, ``lol_gtmean`` in
``rf_plugins.datasets.lol``; ``raindrop``, ``raindrop_256`` in ``rf_plugins.datasets.raindrop``;
``istd``, ``istd_256`` in ``rf_plugins.datasets.istd``), found through the registry.

Registered in :data:`rf.registry.EVAL_PROTOCOLS`; a plugin adds one with
``registry.EVAL_PROTOCOLS.register_module(name='my_protocol', module=...)`` on an
:class:`EvalProtocol` in its ``rf_register_modules`` hook.
"""
from rf.metrics.protocols.base import (
                                       QUANTIZE_MODES,
                                       EvalProtocol,
                                       UnknownProtocolError,
                                       build_protocol,
                                       protocol_names,
                                       quantize,
)
from rf.metrics.protocols.rgb import RgbProtocol

__all__ = ['EvalProtocol', 'UnknownProtocolError', 'build_protocol', 'protocol_names',
           'quantize', 'QUANTIZE_MODES', 'RgbProtocol']
