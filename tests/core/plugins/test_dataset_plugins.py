"""The rule for what is a plugin: anything named after a dataset is one, the core is generic.

Each dataset is one plugin unit under ``plugins/datasets/`` (a module, or a subpackage when it
has several pieces: ``istd/``, ``lol/``, ``raindrop/``), holding its dataset type and the
evaluation protocols named after it. The core registers only generically named protocols.
"""
from rf.metrics.protocols import protocol_names
from rf.registry import DATASETS, EVAL_PROTOCOLS, METRICS

from conftest import REPO_ROOT

DATASET_PLUGINS = REPO_ROOT / 'plugins' / 'datasets'
GENERIC_PROTOCOLS = {'rgb'}
# dataset unit -> (its dataset types, its protocols, its metrics)
DATASET_PIECES = {
    'istd': (['ISTDDataset'], ['istd', 'istd_256'], ['ShadowRegionMetrics']),
    'lol': (['LOLDataset'], ['lol', 'lol_256', 'lol_gtmean'], []),
    'raindrop': (['RaindropDataset'], ['raindrop', 'raindrop_256'], []),
}


def dataset_units():
    """The names of the dataset plugin units (``istd``, ``lol``, ``lolv2``, ``cifar10``, ...)."""
    return sorted(path.stem if path.is_file() else path.name
                  for path in DATASET_PLUGINS.iterdir()
                  if (path.suffix == '.py' and path.stem != '__init__')
                  or (path / '__init__.py').is_file())


def named_after(name: str, unit: str) -> bool:
    return name == unit or name.startswith(unit + '_')


def test_the_core_registers_only_generic_protocols():
    names = protocol_names()  # loads the plugins too
    core = {n for n in names if EVAL_PROTOCOLS.get(n).__module__.startswith('rf.')}
    assert core == GENERIC_PROTOCOLS
    assert not [(n, u) for n in core for u in dataset_units() if named_after(n, u)]


def test_each_dataset_registers_its_pieces_from_its_own_subpackage():
    for unit, (datasets, protocols, metrics) in DATASET_PIECES.items():
        assert (DATASET_PLUGINS / unit / '__init__.py').is_file()
        for registry, names in ((DATASETS, datasets), (EVAL_PROTOCOLS, protocols),
                                (METRICS, metrics)):
            for name in names:
                module = registry.get(name).__module__
                assert module.startswith(f'rf_plugins.datasets.{unit}.'), (name, module)


def test_every_protocol_named_after_a_dataset_lives_in_that_dataset_plugin():
    units = dataset_units()
    assert set(DATASET_PIECES) <= set(units)
    for name in protocol_names():
        owner = max((u for u in units if named_after(name, u)), key=len, default=None)
        module = EVAL_PROTOCOLS.get(name).__module__
        if owner is not None:
            assert module == f'rf_plugins.datasets.{owner}' or module.startswith(
                f'rf_plugins.datasets.{owner}.'), (name, module)


def test_no_core_module_is_named_after_a_dataset():
    units = dataset_units()
    named = [str(path.relative_to(REPO_ROOT)) for path in (REPO_ROOT / 'rf').rglob('*.py')
             if any(unit in path.stem.lower() for unit in units)]
    assert not named, f'core modules named after a dataset (move them to its plugin): {named}'
