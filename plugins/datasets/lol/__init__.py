"""First-party plugin: everything named after LOL-v1 (low light) in one place.

The dataset (``type='LOLDataset'``) and the evaluation protocols ``lol``, ``lol_256`` and
``lol_gtmean``.
"""
from rf.plugins import hookimpl
from rf_plugins.datasets.lol.dataset import LOLDataset
from rf_plugins.datasets.lol.protocols import PROTOCOLS, Lol256Protocol, LolGtMeanProtocol, LolProtocol

__all__ = ['LOLDataset', 'LolProtocol', 'Lol256Protocol', 'LolGtMeanProtocol']


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='LOLDataset', module=LOLDataset)
    for name, protocol in PROTOCOLS.items():
        registry.EVAL_PROTOCOLS.register_module(name=name, module=protocol)
