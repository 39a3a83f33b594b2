"""Find the checkpoint ``--resume`` continues from, also in a work dir copied elsewhere.

MMEngine's ``last_checkpoint`` holds an absolute path, so a work dir that was copied or moved
points back to the old place. Here a path that does not exist is looked up by its file name in
the work dir itself, and without a usable ``last_checkpoint`` the newest ``iter_N.pth`` /
``epoch_N.pth`` is taken. :func:`decide_resume` also covers a worker that torchrun restarted
(elastic mode): it resumes from that last checkpoint without being told to.
"""
import os
import os.path as osp
import re
from typing import Optional, Tuple

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


RESTART_ENV = 'TORCHELASTIC_RESTART_COUNT'


def elastic_restart_count() -> int:
    """How often torchrun has restarted this worker group (0 on the first attempt and outside
    torchrun): ``tools/dist_train.sh`` with ``MAX_RESTARTS=N`` restarts it after a failure."""
    try:
        return int(os.environ.get(RESTART_ENV, '0'))
    except ValueError:
        return 0


def decide_resume(work_dir: str, requested: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint a training resumes from (None: it does not resume) and a line to log.

    ``requested`` is what ``--resume`` said: None, ``'auto'`` (the work dir's last checkpoint) or
    a checkpoint path. A worker that torchrun restarted resumes from the work dir's last complete
    checkpoint whatever was requested, so that no finished iteration is lost; before the first
    checkpoint it starts as the first attempt did.
    """
    restart = elastic_restart_count()
    if restart > 0:
        found = find_resume_checkpoint(work_dir)
        if found:
            return found, (f'elastic restart {restart}: resuming from {found}, the last complete '
                           f'checkpoint in {work_dir}.')
        given = requested if requested not in (None, 'auto') else None
        start = (f'resuming from {given} as the first attempt did' if given
                 else 'training from scratch')
        return given, f'elastic restart {restart}: no checkpoint in {work_dir} yet; {start}.'
    if requested == 'auto':
        found = find_resume_checkpoint(work_dir)
        return found, None if found else (f'--resume: no checkpoint in {work_dir}; training from '
                                          'the start.')
    if requested is None and os.environ.get('TORCHELASTIC_MAX_RESTARTS', '0') not in ('', '0'):
        stale = find_resume_checkpoint(work_dir)
        if stale:
            return None, (f'warning: {work_dir} already holds {stale} and --resume was not given: '
                          'a restart before this run saves its first checkpoint would resume from '
                          'it (pass --resume, or a fresh --work-dir).')
    return requested, None
