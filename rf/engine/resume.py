"""Find the checkpoint ``--resume`` continues from, also in a work dir copied elsewhere.

MMEngine's ``last_checkpoint`` holds an absolute path, so a work dir that was copied or moved
points back to the old place. Here a path that does not exist is looked up by its file name in
the work dir itself, and without a usable ``last_checkpoint`` the newest ``iter_N.pth`` /
``epoch_N.pth`` is taken.
"""
import os
import os.path as osp
import re
from typing import Optional

_NUMBERED = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def _newest_numbered(work_dir: str) -> Optional[str]:
    found = []
    for name in os.listdir(work_dir):
        match = _NUMBERED.match(name)
        if match and osp.isfile(osp.join(work_dir, name)):
            found.append((match.group(1) == 'iter', int(match.group(2)), name))
    return osp.join(work_dir, max(found)[2]) if found else None


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from in ``work_dir``, or None when it has none."""
    if not osp.isdir(work_dir):
        return None
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer, encoding='utf-8') as handle:
            recorded = handle.read().strip()
        if recorded:
            candidates = [recorded, osp.join(work_dir, osp.basename(recorded))]
            if not osp.isabs(recorded):
                candidates.insert(0, osp.join(work_dir, recorded))
            for candidate in candidates:
                if osp.isfile(candidate):
                    return candidate
    return _newest_numbered(work_dir)
