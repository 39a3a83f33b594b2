"""First-party plugin: two unpaired image domains in one folder per domain and split (docs/design.md §3.1).

AFHQ-v2 (``{train,val}/{cat,dog,wild}``) and CelebA-HQ (``{train,val}/{female,male}``) as the
translation task wants them: every source-domain image paired with a target-domain image drawn
at random, anew every epoch.

How the pairing reaches the loader workers: the partner of source image ``i`` is a function of
``(seed, epoch, i)`` alone (a seeded permutation of the target images per epoch), so it is the
same with 0 or 8 workers, on every rank of a distributed run, and after ``--resume``. The epoch
lives in a one-element shared-memory tensor that forked, spawned and persistent workers all
read; :class:`SetDatasetEpochHook` writes the runner's epoch there before each training epoch
(before the loader hands out that epoch's first index). Without the hook the pairing stays that
of epoch 0; with an iteration-based loop it never changes (there are no epochs to follow).
"""
import logging
import os
from typing import Iterator, List, Optional

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.hooks import Hook
from mmengine.logging import print_log

from rf.datasets.image_io import is_image_file
from rf.plugins import hookimpl


class DomainConfigError(ValueError):
    """A domain setting that cannot work (e.g. the source is the target)."""
    rf_user_error = True


def partner_indices(num_sources: int, num_targets: int, seed: int, epoch: int) -> np.ndarray:
    """The target index of each source image in ``epoch``: concatenated random permutations of
    the targets, so every target image is used equally often (once per epoch when both domains
    have one size)."""
    rng = np.random.default_rng([int(seed), int(epoch)])
    blocks = -(-num_sources // num_targets)
    return np.concatenate([rng.permutation(num_targets) for _ in range(blocks)])[:num_sources]


class UnpairedDomainsDataset(BaseDataset):
    """Source-domain images (``degraded``) with a random target-domain partner (``gt``).

    Args:
        data_root: the folder holding the splits, e.g. ``/data/afhq`` with ``train/dog``,
            ``train/cat``, ``val/dog``, ``val/cat`` (``--cfg-options
            train_dataloader.dataset.data_root=PATH``).
        split: the split folder (``'train'`` or ``'val'`` in AFHQ-v2 and CelebA-HQ).
        source, target: the domain folders, e.g. ``'dog'`` and ``'cat'``.
        seed: the pairing seed; the pairing of an epoch depends on ``(seed, epoch)`` only.
        pipeline, test_mode, ...: as :class:`mmengine.dataset.BaseDataset`.

    Each sample's info: ``degraded_path`` (the source image), ``gt_path`` (its partner this
    epoch), ``img_id`` (the source file's stem) and ``target_id``. Images of any size: the
    pipeline resizes them (``configs/_base_/datasets/unpaired_domains_64.py``). Evaluation
    datasets keep the pairing of epoch 0; the pairing does not matter to FID, which compares the
    set of translations with the set of target images seen.
    """

    def __init__(self, data_root: str = '', split: str = 'train', source: str = 'dog',
                 target: str = 'cat', seed: int = 0, **kwargs) -> None:
        if not data_root:
            raise DomainConfigError(
                f'{type(self).__name__} needs data_root: set it in the config or with '
                '--cfg-options train_dataloader.dataset.data_root=PATH.')
        if source == target:
            raise DomainConfigError(f'{type(self).__name__}: the source and target domains are '
                                    f'both {source!r}; translation needs two domains.')
        if int(seed) < 0:
            raise DomainConfigError(f'{type(self).__name__}: seed must be >= 0, got {seed}.')
        self.split, self.source, self.target, self.seed = split, source, target, int(seed)
        self.target_paths: List[str] = []
        # Shared memory: loader workers (forked, spawned or persistent) see set_epoch() at once.
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._partners = (None, None)  # (epoch, partner_indices), cached per process
        super().__init__(data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ the two domains
    def _domain_images(self, domain: str, role: str) -> List[str]:
        split_dir = os.path.join(self.data_root, self.split)
        if not os.path.isdir(self.data_root):
            raise FileNotFoundError(f'{type(self).__name__}: data_root {self.data_root} does '
                                    'not exist.')
        if not os.path.isdir(split_dir):
            raise FileNotFoundError(
                f'{type(self).__name__}: the split folder {split_dir} does not exist; '
                f'{self.data_root} holds: {_folders(self.data_root)}.')
        folder = os.path.join(split_dir, domain)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f'{type(self).__name__}: the {role} domain folder {folder} does not exist; '
                f'the domains in {split_dir} are: {_folders(split_dir)}.')
        names = sorted(n for n in os.listdir(folder)
                       if is_image_file(n) and os.path.isfile(os.path.join(folder, n)))
        if not names:
            raise FileNotFoundError(f'{type(self).__name__}: the {role} domain folder {folder} '
                                    'holds no images.')
        return [os.path.join(folder, n) for n in names]

    def load_data_list(self) -> List[dict]:
        sources = self._domain_images(self.source, 'source')
        self.target_paths = self._domain_images(self.target, 'target')
        if self.test_mode and len(self.target_paths) > len(sources):
            print_log(f'{type(self).__name__} ({self.split}): {len(sources)} {self.source} '
                      f'images meet {len(self.target_paths)} {self.target} images, so only '
                      f'{len(sources)} target images are paired (and seen by FID).',
                      logger='current', level=logging.WARNING)
        return [dict(img_id=_stem(path), degraded_path=path) for path in sources]

    # ------------------------------------------------------------------ the pairing
    @property
    def epoch(self) -> int:
        return int(self._epoch.item())

    def set_epoch(self, epoch: int) -> None:
        """Re-pair for ``epoch`` (called by :class:`SetDatasetEpochHook` in the main process)."""
        self._epoch.fill_(int(epoch))

    def partners(self, epoch: Optional[int] = None) -> np.ndarray:
        """The target index of every source image in ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else int(epoch)
        cached_epoch, cached = self._partners
        if cached_epoch != epoch:
            cached = partner_indices(len(self), len(self.target_paths), self.seed, epoch)
            self._partners = (epoch, cached)
        return cached

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        target = self.target_paths[int(self.partners()[idx])]
        info.update(gt_path=target, target_id=_stem(target))
        return info


class SetDatasetEpochHook(Hook):
    """Before each training epoch, tell the training dataset (and any dataset it wraps) which
    epoch it is: ``dataset.set_epoch(runner.epoch)``, so that datasets that draw something per
    epoch (:class:`UnpairedDomainsDataset`'s pairing) follow the run, resumed runs included."""

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        if not list(_epoch_aware(_train_dataset(runner))):
            print_log('SetDatasetEpochHook: the training dataset has no set_epoch(); nothing '
                      'to do.', logger='current', level=logging.WARNING)

    def before_train_epoch(self, runner) -> None:
        for dataset in _epoch_aware(_train_dataset(runner)):
            dataset.set_epoch(runner.epoch)


def _train_dataset(runner):
    return getattr(runner.train_loop.dataloader, 'dataset', None)


def _epoch_aware(dataset) -> Iterator:
    """``dataset`` or the datasets it wraps (ConcatDataset, RepeatDataset, ...) with set_epoch."""
    stack = [dataset]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if callable(getattr(current, 'set_epoch', None)):
            yield current
        elif hasattr(current, 'datasets'):
            stack.extend(current.datasets)
        elif hasattr(current, 'dataset'):
            stack.append(current.dataset)


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _folders(path: str) -> str:
    names = sorted(n for n in os.listdir(path) if os.path.isdir(os.path.join(path, n)))
    return ', '.join(names) if names else 'no folders'


@hookimpl
def rf_register_modules(registry):
    registry.DATASETS.register_module(name='UnpairedDomainsDataset', module=UnpairedDomainsDataset)
    registry.HOOKS.register_module(name='SetDatasetEpochHook', module=SetDatasetEpochHook)
