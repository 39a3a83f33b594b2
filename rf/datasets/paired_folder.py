"""A dataset of (degraded, ground truth[, mask]) image pairs stored in two (or three) folders."""
import logging
import os
import re
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from rf.datasets.errors import DataError
from rf.datasets.image_io import is_image_file
from rf.registry import DATASETS

NameRule = Optional[Tuple[str, str]]


def _listing(folder: str, what: str) -> List[str]:
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'The {what} folder {folder} does not exist (check data_root).')
    names = sorted(n for n in os.listdir(folder) if is_image_file(n)
                   and os.path.isfile(os.path.join(folder, n)))
    return names


def _stem(name: str) -> str:
    return os.path.splitext(name)[0]


def _partner_stem(name: str, rule: NameRule) -> str:
    """The stem of the file paired with ``name``: the same stem, or ``re.sub(*rule, stem)``."""
    if rule is None:
        return _stem(name)
    pattern, replacement = rule
    return re.sub(pattern, replacement, _stem(name))


def _short_list(names: Sequence[str], limit: int = 8) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f' and {len(names) - limit} more' if len(names) > limit else '')


@DATASETS.register_module()
class PairedImageDataset(BaseDataset):
    """Pairs every image of ``data_root/degraded_dir`` with the image of ``data_root/gt_dir``
    whose name follows the pairing rule.

    Args:
        data_root: the dataset's root folder (``--cfg-options train_dataloader.dataset.data_root=``).
        degraded_dir, gt_dir, mask_dir: folders relative to ``data_root`` (``mask_dir`` optional).
        gt_name: the pairing rule for the ground truth: ``None`` pairs equal file stems (any
            extension); ``(pattern, replacement)`` maps the degraded stem with ``re.sub``, e.g.
            ``('_rain$', '_clean')`` for Raindrop or ``('^low', 'normal')`` for LOL-v2.
        mask_name: the same rule for masks.
        degraded_pattern: keep only degraded files whose stem matches this regex (``re.search``),
            for layouts that keep both images of a pair in one folder, e.g. PolyU's
            ``X_real.JPG`` / ``X_mean.JPG``: ``degraded_dir=gt_dir='train'``,
            ``degraded_pattern='_real$'``, ``gt_name=('_real$', '_mean')``.
        skip_bad_pairs: instead of stopping at the first bad sample (unreadable file, sizes
            that differ, smaller than the crop, a mask that is not binary), run the pipeline
            once over every sample when the dataset is built, leave the bad ones out and log how
            many were skipped and why. A file that goes bad later is skipped when it is met.
        hold_out_every, hold_out_part: a validation split carved from one folder: with
            ``hold_out_every=N``, every N-th pair (in sorted order, starting with the first) is
            held out; ``hold_out_part='rest'`` keeps the others (for training), ``'held_out'``
            those (for validation). ``0`` (default) keeps all.
        pipeline, test_mode, ...: as :class:`mmengine.dataset.BaseDataset`.

    A degraded image without its ground truth (or mask) is an error that lists the missing files;
    ground truths with no degraded partner are reported with a warning and left out.
    """

    def __init__(self, data_root: str = '', degraded_dir: str = 'low', gt_dir: str = 'high',
                 mask_dir: Optional[str] = None, gt_name: NameRule = None,
                 mask_name: NameRule = None, degraded_pattern: Optional[str] = None,
                 skip_bad_pairs: bool = False,
                 hold_out_every: int = 0, hold_out_part: str = 'rest', **kwargs) -> None:
        if hold_out_part not in ('rest', 'held_out'):
            raise ValueError(f"{type(self).__name__}: hold_out_part must be 'rest' or 'held_out', "
                             f'got {hold_out_part!r}.')
        self.hold_out_every, self.hold_out_part = int(hold_out_every), hold_out_part
        if not data_root:
            raise ValueError(f'{type(self).__name__} needs data_root: set it in the config or '
                             'with --cfg-options train_dataloader.dataset.data_root=PATH.')
        self.degraded_dir, self.gt_dir, self.mask_dir = degraded_dir, gt_dir, mask_dir
        self.gt_name = tuple(gt_name) if gt_name else None
        self.mask_name = tuple(mask_name) if mask_name else None
        self.skip_bad_pairs = bool(skip_bad_pairs)
        self.degraded_pattern = degraded_pattern
        self.skipped: List[Tuple[str, str]] = []
        super().__init__(data_root=data_root, **kwargs)

    def _folder(self, relative: str) -> str:
        return os.path.join(self.data_root, relative)

    def _match(self, degraded: List[str], folder: str, rule: NameRule,
               what: str) -> Dict[str, str]:
        by_stem = {}
        for name in _listing(folder, what):
            by_stem.setdefault(_stem(name), name)
        pairs, missing = {}, []
        for name in degraded:
            partner = by_stem.get(_partner_stem(name, rule))
            if partner is None:
                missing.append(name)
            else:
                pairs[name] = partner
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} degraded image(s) in {self._folder(self.degraded_dir)} have no '
                f'{what} in {folder}: {_short_list(missing)}.')
        unpaired = set(by_stem.values()) - set(pairs.values())
        if os.path.abspath(folder) == os.path.abspath(self._folder(self.degraded_dir)):
            unpaired -= set(degraded)  # one folder holds both images of a pair
            if self.degraded_pattern:
                unpaired = {n for n in unpaired
                            if not re.search(self.degraded_pattern, _stem(n))}
        unpaired = sorted(unpaired)
        if unpaired:
            warnings.warn(f'{len(unpaired)} {what} file(s) in {folder} have no degraded image '
                          f'and are left out: {_short_list(unpaired)}.', stacklevel=3)
        return pairs

    def load_data_list(self) -> List[dict]:
        if not os.path.isdir(self.data_root):
            raise FileNotFoundError(f'{type(self).__name__}: data_root {self.data_root} does not '
                                    'exist.')
        degraded_folder = self._folder(self.degraded_dir)
        degraded = _listing(degraded_folder, 'degraded-image')
        if self.degraded_pattern:
            degraded = [n for n in degraded if re.search(self.degraded_pattern, _stem(n))]
        if not degraded:
            what = (f'matching {self.degraded_pattern!r} ' if self.degraded_pattern else '')
            raise FileNotFoundError(f'{type(self).__name__}: no images {what}in '
                                    f'{degraded_folder}.')
        gts = self._match(degraded, self._folder(self.gt_dir), self.gt_name, 'ground-truth')
        masks = (self._match(degraded, self._folder(self.mask_dir), self.mask_name, 'mask')
                 if self.mask_dir else {})
        data_list = []
        for name in degraded:
            info = dict(img_id=_stem(name),
                        degraded_path=os.path.join(degraded_folder, name),
                        gt_path=os.path.join(self._folder(self.gt_dir), gts[name]))
            if masks:
                info['mask_path'] = os.path.join(self._folder(self.mask_dir), masks[name])
            data_list.append(info)
        if self.hold_out_every > 0:
            held_out = self.hold_out_part == 'held_out'
            data_list = [info for i, info in enumerate(data_list)
                         if (i % self.hold_out_every == 0) == held_out]
        return data_list

    def filter_data(self) -> List[dict]:
        """With ``skip_bad_pairs``: the samples whose pipeline runs, the rest reported."""
        data_list = super().filter_data()
        if not self.skip_bad_pairs:
            return data_list
        kept = []
        for info in data_list:
            try:
                self.pipeline(dict(info))
            except DataError as error:
                self.skipped.append((info.get('degraded_path', info.get('img_id')), str(error)))
            else:
                kept.append(info)
        if self.skipped:
            reasons = '\n'.join(f'  {reason}' for _, reason in self.skipped[:20])
            more = (f'\n  ... and {len(self.skipped) - 20} more' if len(self.skipped) > 20
                    else '')
            print_log(f'{type(self).__name__} ({self.data_root}): skipped {len(self.skipped)} '
                      f'of {len(data_list)} bad pair(s) (skip_bad_pairs=True):\n{reasons}{more}',
                      logger='current', level=logging.WARNING)
        if not kept:
            raise DataError(f'{type(self).__name__}: every one of the {len(data_list)} pairs in '
                            f'{self.data_root} is bad; the first: {self.skipped[0][1]}')
        return kept

    def prepare_data(self, idx: int):
        """A sample; with ``skip_bad_pairs``, None for one that went bad (MMEngine then draws
        another during training)."""
        try:
            return super().prepare_data(idx)
        except DataError as error:
            if not self.skip_bad_pairs or self.test_mode:
                raise
            print_log(f'Skipped a bad pair: {error}', logger='current', level=logging.WARNING)
            return None
