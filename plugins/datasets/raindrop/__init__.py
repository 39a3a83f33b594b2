"""First-party plugin: everything named after Raindrop (raindrop removal) in one place.

The dataset (``type='RaindropDataset'``) and the evaluation protocols ``raindrop`` and
``raindrop_256``.
"""
from rf.plugins import hookimpl
from rf_plugins.datasets.raindrop.dataset import RaindropDataset
from rf_plugins.datasets.raindrop.protocols import PROTOCOLS, Raindrop256Protocol, RaindropProtocol

__all__ = ['RaindropDataset', 'RaindropProtocol', 'Raindrop256Protocol']


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='RaindropDataset', module=RaindropDataset)
    for name, protocol in PROTOCOLS.items():
        registry.EVAL_PROTOCOLS.register_module(name=name, module=protocol)
