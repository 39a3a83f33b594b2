"""UnpairedDomainsDataset on generated AFHQ/CelebA-HQ-style folders: the random pairing (new each
epoch, reproducible, the same in loader workers), the 64x64 pipeline, SetDatasetEpochHook and the
errors for missing or empty domain folders."""
from collections import Counter
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rf.cli.errors import one_line_error
from rf.registry import DATASETS, HOOKS
from rf_plugins.datasets.unpaired_domains import (
    DomainConfigError,
    SetDatasetEpochHook,
    UnpairedDomainsDataset,
    partner_indices,
)

from conftest import REPO_ROOT


def write_domains(root, counts, sizes=None, split='train'):
    """``counts = {'dog': 5, 'cat': 4}`` random images per domain under ``root/split/domain``."""
    rng = np.random.default_rng(0)
    for domain, count in counts.items():
        folder = root / split / domain
        folder.mkdir(parents=True, exist_ok=True)
        height, width = (sizes or {}).get(domain, (24, 24))
        for i in range(count):
            cv2.imwrite(str(folder / f'{domain}_{i:03d}.png'),
                        rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    return root


def dataset(root, **kwargs):
    kwargs.setdefault('pipeline', [])
    return UnpairedDomainsDataset(data_root=str(root), source='dog', target='cat', **kwargs)


def pairs(ds):
    return [(ds.get_data_info(i)['img_id'], ds.get_data_info(i)['target_id'])
            for i in range(len(ds))]


def test_pairs_every_source_with_a_target_image(tmp_path):
    ds = dataset(write_domains(tmp_path, {'dog': 6, 'cat': 6, 'wild': 2}))
    assert len(ds) == 6
    info = ds.get_data_info(2)
    assert info['degraded_path'] == str(tmp_path / 'train' / 'dog' / 'dog_002.png')
    assert info['gt_path'].startswith(str(tmp_path / 'train' / 'cat' / 'cat_'))
    # One epoch uses every cat exactly once when the domains have one size.
    assert sorted(target for _, target in pairs(ds)) == [f'cat_{i:03d}' for i in range(6)]


def test_pairing_changes_every_epoch_and_is_reproducible(tmp_path):
    root = write_domains(tmp_path, {'dog': 20, 'cat': 20})
    ds = dataset(root)
    by_epoch = []
    for epoch in range(4):
        ds.set_epoch(epoch)
        assert ds.epoch == epoch
        by_epoch.append(pairs(ds))
    assert len({tuple(p) for p in by_epoch}) == 4, 'each epoch must draw a new pairing'
    again = dataset(root)  # a fresh dataset (another run, a resumed run, another rank)
    for epoch in (3, 0, 2):  # in any order
        again.set_epoch(epoch)
        assert pairs(again) == by_epoch[epoch]
    other_seed = dataset(root, seed=1)
    assert pairs(other_seed) != by_epoch[0]


def test_more_sources_than_targets_use_every_target_evenly(tmp_path):
    ds = dataset(write_domains(tmp_path, {'dog': 7, 'cat': 3}))
    for epoch in range(3):
        ds.set_epoch(epoch)
        counts = Counter(target for _, target in pairs(ds))
        assert len(counts) == 3 and sorted(counts.values()) == [2, 2, 3]
    assert len(partner_indices(5, 2, seed=0, epoch=0)) == 5


def keep_as_list(batch):
    return batch


def _loader_pairs(ds, epochs, **loader_kwargs):
    loader = torch.utils.data.DataLoader(ds, batch_size=2, shuffle=True,
                                         collate_fn=keep_as_list, **loader_kwargs)
    seen = []
    for epoch in epochs:
        ds.set_epoch(epoch)  # in the main process, as SetDatasetEpochHook does
        seen.append(sorted((s['img_id'], s['target_id']) for batch in loader for s in batch))
    return seen


@pytest.mark.parametrize('context', ['fork', 'spawn'])
def test_persistent_loader_workers_follow_the_epoch(tmp_path, context):
    """Workers that outlive an epoch (persistent, forked or spawned) read the epoch set in the
    main process: their pairing equals the in-process one, epoch by epoch."""
    ds = dataset(write_domains(tmp_path, {'dog': 8, 'cat': 8}))
    expected = []
    for epoch in (0, 1, 2):
        ds.set_epoch(epoch)
        expected.append(sorted(pairs(ds)))
    assert expected[0] != expected[1] != expected[2]
    workers = 2 if context == 'fork' else 1
    seen = _loader_pairs(ds, (0, 1, 2), num_workers=workers, persistent_workers=True,
                         multiprocessing_context=context)
    assert seen == expected


def test_config_pipeline_makes_64x64_samples_from_any_size(tmp_path):
    root = write_domains(tmp_path, {'dog': 2, 'cat': 2}, sizes={'dog': (80, 96), 'cat': (70, 70)})
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'afhq_dog2cat.py'))
    for loader in ('train_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
        cfg[loader].dataset.split = 'train'
        with DefaultScope.overwrite_default_scope('rf'):
            ds = DATASETS.build(cfg[loader].dataset)
        sample = ds[0]
        assert sample['inputs']['degraded'].shape == (3, 64, 64)
        assert sample['inputs']['degraded'].dtype == torch.uint8
        assert sample['data_samples'].gt.shape == (3, 64, 64)
        meta = sample['data_samples'].metainfo
        assert '/dog/' in meta['degraded_path'] and '/cat/' in meta['gt_path']
    # The test pipeline is deterministic: a centre crop of the area-scaled image, no flip.
    image = cv2.cvtColor(cv2.imread(str(root / 'train' / 'dog' / 'dog_000.png')), cv2.COLOR_BGR2RGB)
    scaled = cv2.resize(image, (77, 64), interpolation=cv2.INTER_AREA)  # shorter side 80 -> 64
    left = (77 - 64) // 2
    np.testing.assert_allclose(ds[0]['inputs']['degraded'].permute(1, 2, 0).numpy().astype(int),
                               scaled[:, left:left + 64].astype(int), atol=1)


def test_hook_sets_the_runner_epoch_on_wrapped_datasets(tmp_path):
    ds = dataset(write_domains(tmp_path, {'dog': 4, 'cat': 4}))
    wrapped = SimpleNamespace(dataset=ds)  # e.g. a RepeatDataset or ClassBalancedDataset
    runner = SimpleNamespace(epoch=5, train_loop=SimpleNamespace(
        dataloader=SimpleNamespace(dataset=wrapped)))
    hook = HOOKS.build(dict(type='SetDatasetEpochHook'))
    assert isinstance(hook, SetDatasetEpochHook)
    hook.before_train_epoch(runner)
    assert ds.epoch == 5
    assert pairs(ds) == [(f'dog_{i:03d}', f'cat_{j:03d}')
                         for i, j in enumerate(partner_indices(4, 4, seed=0, epoch=5))]


@pytest.mark.parametrize('case, expected', [
    ('no_root', 'data_root {root}/missing does not exist'),
    ('no_split', 'the split folder {root}/train does not exist; {root} holds: val'),
    ('no_source', 'the source domain folder {root}/train/dog does not exist; the domains in '
                  '{root}/train are: cat, wild'),
    ('no_target', 'the target domain folder {root}/train/cat does not exist; the domains in '
                  '{root}/train are: dog'),
    ('empty_target', 'the target domain folder {root}/train/cat holds no images'),
])
def test_missing_or_empty_folders_are_named(tmp_path, case, expected):
    root = tmp_path
    if case == 'no_root':
        root = tmp_path / 'missing'
    elif case == 'no_split':
        write_domains(tmp_path, {'dog': 1, 'cat': 1}, split='val')
    elif case == 'no_source':
        write_domains(tmp_path, {'cat': 1, 'wild': 1})
    elif case == 'no_target':
        write_domains(tmp_path, {'dog': 1})
    elif case == 'empty_target':
        write_domains(tmp_path, {'dog': 1})
        (tmp_path / 'train' / 'cat').mkdir()
        (tmp_path / 'train' / 'cat' / 'notes.txt').write_text('not an image')
    with pytest.raises(FileNotFoundError) as error:
        dataset(root)
    assert expected.format(root=tmp_path) in str(error.value)
    assert one_line_error(error.value) == str(error.value)  # the tools print it as one line


@pytest.mark.parametrize('kwargs, expected', [
    (dict(data_root=''), 'needs data_root'),
    (dict(source='cat', target='cat'), "both 'cat'"),
    (dict(seed=-1), 'seed must be >= 0'),
])
def test_bad_settings_are_refused(tmp_path, kwargs, expected):
    write_domains(tmp_path, {'dog': 1, 'cat': 1})
    settings = dict(data_root=str(tmp_path), source='dog', target='cat', pipeline=[])
    settings.update(kwargs)
    with pytest.raises(DomainConfigError, match=expected) as error:
        UnpairedDomainsDataset(**settings)
    assert one_line_error(error.value) is not None
