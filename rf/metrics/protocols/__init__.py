"""Evaluation protocols: one per evaluation script of the paper's authors (see each module).

Registered in :data:`rf.registry.EVAL_PROTOCOLS`; a plugin adds one with
``@registry.EVAL_PROTOCOLS.register_module(name='my_protocol')`` on an :class:`EvalProtocol`.
"""
from rf.metrics.protocols.base import (QUANTIZE_MODES, EvalProtocol, UnknownProtocolError,
                                       build_protocol, protocol_names, quantize)
from rf.metrics.protocols.deraining import Raindrop256Protocol, RaindropProtocol
from rf.metrics.protocols.lowlight import (Lol256Protocol, LolGtMeanProtocol, LolProtocol,
                                           RgbProtocol)
from rf.metrics.protocols.shadow import Istd256Protocol, IstdProtocol

__all__ = ['EvalProtocol', 'UnknownProtocolError', 'build_protocol', 'protocol_names',
           'quantize', 'QUANTIZE_MODES', 'LolProtocol', 'Lol256Protocol', 'LolGtMeanProtocol',
           'RgbProtocol',            'RaindropProtocol', 'Raindrop256Protocol', 'IstdProtocol', 'Istd256Protocol']
