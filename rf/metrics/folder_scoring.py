"""Score a folder of results against a folder of ground truths with one evaluation protocol.

Pairing (``pairing=``): ``'name'`` (default) pairs files of the same name, or of the same stem
when the extensions differ (``1.png`` with ``1.jpg``), and refuses unpaired files with one error
that lists them; ``'natsort'`` sorts each folder naturally (``2.png`` before ``10.png``) and
pairs by position, as the authors' scripts do, after checking the counts agree. Masks (ISTD) come
from a third folder, paired the same way. Images are read as 8-bit RGB; masks as 8-bit grey
with their values kept (the protocols decide what counts as shadow).
"""
import math
import os
import re
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from rf.datasets.image_io import is_image_file, read_grey, read_rgb
from rf.metrics.protocol_scoring import ProtocolScorer

PAIRINGS = ('name', 'natsort')


class FolderScoringError(ValueError):
    """Folders that cannot be scored: missing, empty or unpaired files (message names them)."""
    rf_user_error = True


def natural_key(name: str) -> list:
    """Sort key that orders digit runs by value: ``img2`` before ``img10``."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r'(\d+)', name) if part]


def list_images(folder: str, what: str) -> List[str]:
    if not os.path.isdir(folder):
        raise FolderScoringError(f'The {what} folder {folder} does not exist.')
    names = sorted(n for n in os.listdir(folder) if is_image_file(n))
    if not names:
        raise FolderScoringError(f'The {what} folder {folder} holds no image files.')
    return names


def _shown(names: List[str], limit: int = 8) -> str:
    return ', '.join(names[:limit]) + (f' and {len(names) - limit} more' if len(names) > limit
                                       else '')


def _match_by_name(names: List[str], others: List[str], what: str,
                   other_what: str) -> Dict[str, str]:
    """``{name: other name}``: same file name, else same stem."""
    exact = set(others)
    by_stem: Dict[str, List[str]] = {}
    for other in others:
        by_stem.setdefault(os.path.splitext(other)[0], []).append(other)
    matched, unpaired = {}, []
    for name in names:
        if name in exact:
            matched[name] = name
            continue
        candidates = by_stem.get(os.path.splitext(name)[0], [])
        if len(candidates) == 1:
            matched[name] = candidates[0]
        else:
            unpaired.append(name)
    leftover = sorted(set(others) - set(matched.values()), key=natural_key)
    if unpaired or leftover:
        parts = []
        if unpaired:
            parts.append(f'{len(unpaired)} {what} file(s) have no {other_what} of the same name: '
                         f'{_shown(unpaired)}')
        if leftover:
            parts.append(f'{len(leftover)} {other_what} file(s) have no {what}: '
                         f'{_shown(leftover)}')
        raise FolderScoringError('; '.join(parts) + ". Rename them, or pair by position with "
                                 "--pairing natsort (the authors' scripts' way).")
    return matched


def pair_files(pred_dir: str, gt_dir: str, mask_dir: Optional[str] = None,
               pairing: str = 'name') -> List[Tuple[str, str, str, Optional[str]]]:
    """``[(name, pred_path, gt_path, mask_path or None)]`` in natural order of the predictions."""
    if pairing not in PAIRINGS:
        raise FolderScoringError(f'pairing must be one of {PAIRINGS}, got {pairing!r}.')
    preds = sorted(list_images(pred_dir, 'prediction'), key=natural_key)
    gts = sorted(list_images(gt_dir, 'ground-truth'), key=natural_key)
    masks = sorted(list_images(mask_dir, 'mask'), key=natural_key) if mask_dir else None
    if pairing == 'natsort':
        counts = [('predictions', len(preds)), ('ground truths', len(gts))]
        if masks is not None:
            counts.append(('masks', len(masks)))
        if len({count for _, count in counts}) > 1:
            raise FolderScoringError('Pairing by position needs as many files in each folder; '
                                     'found ' + ', '.join(f'{c} {w}' for w, c in counts) + '.')
        gt_of = dict(zip(preds, gts))
        mask_of = dict(zip(preds, masks)) if masks is not None else {}
    else:
        gt_of = _match_by_name(preds, gts, 'prediction', 'ground-truth')
        mask_of = _match_by_name(preds, masks, 'prediction', 'mask') if masks is not None else {}
    return [(name, os.path.join(pred_dir, name), os.path.join(gt_dir, gt_of[name]),
             os.path.join(mask_dir, mask_of[name]) if mask_dir else None) for name in preds]


def score_folders(pred_dir: str, gt_dir: str, protocol, mask_dir: Optional[str] = None,
                  pairing: str = 'name', lpips='auto',
                  progress: Callable[[Iterable], Iterable] = iter,
                  warn: Optional[Callable[[str], None]] = None) -> dict:
    """``{'summary': {...}, 'per_image': [{'name', 'pred', 'gt', <scores>}], 'n': N}``."""
    kwargs = {} if warn is None else dict(warn=warn)
    scorer = ProtocolScorer(protocol, lpips=lpips, **kwargs)
    if scorer.protocol.needs_mask and not mask_dir:
        raise FolderScoringError(f'Protocol {scorer.name} needs the shadow masks: give '
                                 '--mask-dir DIR (ISTD: test/test_B).')
    pairs = pair_files(pred_dir, gt_dir, mask_dir if scorer.protocol.needs_mask else None,
                       pairing)
    rows, scores = [], []
    for name, pred_path, gt_path, mask_path in progress(pairs):
        mask = read_grey(mask_path) if mask_path else None
        try:
            result = scorer.score(read_rgb(pred_path), read_rgb(gt_path), mask)
        except ValueError as error:
            raise FolderScoringError(f'{pred_path} with {gt_path}: {error}') from None
        scores.append(result)
        rows.append(dict(name=name, pred=pred_path, gt=gt_path,
                         **{k: v for k, v in result.items() if not k.startswith('_')}))
    return dict(protocol=scorer.name, follows=scorer.protocol.follows,
                summary=scorer.summarize(scores), per_image=rows, n=len(rows))


def json_number(value):
    """Finite floats as they are; inf and nan as the strings 'inf', '-inf', 'nan'."""
    if isinstance(value, float) and not math.isfinite(value):
        return 'nan' if math.isnan(value) else ('inf' if value > 0 else '-inf')
    return value
