"""Loaders asked to run without workers: the worker-only options follow ``num_workers=0``.

``--cfg-options train_dataloader.num_workers=0`` is the first override of a debugging session,
but every paper config sets ``persistent_workers=True``, and torch's ``DataLoader`` refuses that
(and ``prefetch_factor``, ``multiprocessing_context``) without workers. A config asking for no
workers means it, so those options are turned off here, one info line per loader, rather than a
bare ``ValueError`` traceback when the loader is built. ``build_runner`` applies it to every
runner, whichever entry point loaded the config (docs/design.md §5.1).
"""
from typing import List

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# DataLoader options that only worker processes use, and what "off" is for each.
WORKER_ONLY = (('persistent_workers', False), ('prefetch_factor', None),
               ('multiprocessing_context', None))


def _worker_only_set(loader) -> List[str]:
    """The worker-only options ``loader`` sets, when it loads in the main process."""
    if not hasattr(loader, 'get') or loader.get('num_workers'):
        return []  # not a config (None, a built loader), or one with workers
    return [key for key, off in WORKER_ONLY if loader.get(key, off) not in (off, None)]


def _describe(name: str, options: List[str]) -> str:
    changes = ['persistent_workers off' if key == 'persistent_workers' else f'no {key}'
               for key in options]
    return f'{name}: num_workers=0, so ' + ', '.join(changes)


def adapt_workerless_loaders(cfg) -> List[str]:
    """Turn off the worker-only options of each loader in ``cfg`` with ``num_workers`` 0 or
    unset; returns one line per adapted loader (``train_dataloader: num_workers=0, so
    persistent_workers off``) for the caller to log."""
    found = [(name, cfg.get(name)) for name in LOADERS]
    # Decided before changing anything: two names may share one dict (test = val).
    found = [(name, loader, _worker_only_set(loader)) for name, loader in found]
    notes = []
    for name, loader, options in found:
        if not options:
            continue
        if 'persistent_workers' in options:
            loader['persistent_workers'] = False
        for key in options:
            if key != 'persistent_workers':
                loader.pop(key, None)
        notes.append(_describe(name, options))
    return notes
