"""First-party plugin: everything named after ISTD (shadow removal) in one place.

The dataset (``type='ISTDDataset'``), the authors' evaluation protocols (``istd``,
``istd_256``) and the shadow/non-shadow region metric (``type='ShadowRegionMetrics'``).
"""
from rf.plugins import hookimpl
from rf_plugins.datasets.istd.dataset import ISTDDataset
from rf_plugins.datasets.istd.protocols import PROTOCOLS, Istd256Protocol, IstdProtocol
from rf_plugins.datasets.istd.region_metrics import ShadowRegionMetrics

__all__ = ['ISTDDataset', 'IstdProtocol', 'Istd256Protocol', 'ShadowRegionMetrics']


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='ISTDDataset', module=ISTDDataset)
    registry.METRICS.register_module(name='ShadowRegionMetrics', module=ShadowRegionMetrics)
    for name, protocol in PROTOCOLS.items():
        registry.EVAL_PROTOCOLS.register_module(name=name, module=protocol)
