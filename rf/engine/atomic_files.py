"""Write files so that a kill at any moment leaves either the old file or the complete new one.

The bytes go to a hidden temporary file in the destination folder, are flushed to disk, and the
temporary file is renamed over the destination (``os.replace`` is atomic within one file system).
:class:`AtomicLocalBackend` is MMEngine's local file backend with its writes made atomic; the
crash-safe checkpoint hook saves through it.
"""
import glob
import os
import os.path as osp
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

BACKEND_NAME = 'rf_atomic_local'
_TMP_SUFFIX = '.rf-tmp'


def temporary_path(path: str) -> str:
    """The hidden temporary file ``path`` is written through (unique per process)."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}.{os.getpid()}{_TMP_SUFFIX}')


def _write_and_sync(handle, data: bytes) -> None:
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def _sync_folder(folder: str) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not open folders; the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_write_bytes(path: Union[str, os.PathLike], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, creating the parent folder."""
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, 'wb') as handle:
            _write_and_sync(handle, data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _sync_folder(folder)


def atomic_write_text(path: Union[str, os.PathLike], text: str, encoding: str = 'utf-8') -> None:
    atomic_write_bytes(path, text.encode(encoding))


def remove_stale_temporaries(folder: str) -> int:
    """Delete temporary files that a killed process left in ``folder``; returns how many."""
    removed = 0
    for path in glob.glob(osp.join(glob.escape(folder), f'.*{_TMP_SUFFIX}')):
        try:
            os.remove(path)
            removed += 1
        except OSError:
            pass
    return removed


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local backend whose ``put`` and ``put_text`` are atomic."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_text(filepath, obj, encoding)


register_backend(BACKEND_NAME, AtomicLocalBackend, force=True)
