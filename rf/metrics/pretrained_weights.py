"""Pretrained weights of the LPIPS and FID metrics, in torch hub's cache as the libraries expect.

The ``lpips`` package (through torchvision) and torchmetrics (through torch-fidelity) load their
networks from torch hub's cache, ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints``
by default), and download a missing file on first use. rf looks for the file before building a
network: when it is absent, rf downloads it with torch hub's own function, under a socket timeout
so that a machine without network fails within seconds instead of hanging, and turns a failure
into one :class:`MissingWeightsError` naming the file, the path it must be placed at and the URL
it comes from. A file that is there but cannot be loaded raises :class:`WeightsFormatError`.
Tools print either as one line (``rf_user_error``). See docs/pretrained_weights.md.
"""
import contextlib
import os
import socket
import sys
from typing import Iterator, Optional

import torch

__all__ = ['MissingWeightsError', 'WeightsFormatError', 'hub_checkpoint_path',
           'ensure_hub_weights', 'loading_weights', 'DOWNLOAD_TIMEOUT']

# Seconds one network operation (connect, one read) may take before the download is given up.
DOWNLOAD_TIMEOUT = 20.0


class MissingWeightsError(FileNotFoundError):
    """A weight file is not in the torch hub cache and could not be downloaded."""
    rf_user_error = True


class WeightsFormatError(ValueError):
    """A weight file that is there but does not load into the expected network."""
    rf_user_error = True


def hub_checkpoint_path(filename: str) -> str:
    """Where torch hub keeps ``filename``: ``<torch.hub.get_dir()>/checkpoints/<filename>``."""
    return os.path.join(torch.hub.get_dir(), 'checkpoints', filename)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f'{type(exc).__name__}: {text.splitlines()[0]}' if text else type(exc).__name__


def ensure_hub_weights(filename: str, url: str, metric: str,
                       hash_prefix: Optional[str] = None) -> str:
    """The cached path of ``filename``, downloaded from ``url`` first when it is absent.

    ``hash_prefix``: the start of the file's SHA-256, checked after a download (as torchvision
    does). Raises :class:`MissingWeightsError` when the file is absent and the download fails.
    """
    path = hub_checkpoint_path(filename)
    if os.path.isfile(path):
        return path
    print(f'{metric}: {filename} is not in the torch hub cache; downloading {url} to {path}',
          file=sys.stderr, flush=True)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with _socket_timeout(DOWNLOAD_TIMEOUT):
            torch.hub.download_url_to_file(url, path, hash_prefix=hash_prefix, progress=False)
    except Exception as exc:  # noqa: BLE001 - any failure means: the file is not there
        raise MissingWeightsError(
            f'{metric} needs the pretrained weights {filename}, which are not in the torch hub '
            f'cache and could not be downloaded ({_first_line(exc)}). Place the file at {path} '
            f'(it comes from {url}; the cache follows $TORCH_HOME), e.g. by downloading it on a '
            'machine with network; see docs/pretrained_weights.md.') from None
    return path


@contextlib.contextmanager
def loading_weights(path: str, metric: str) -> Iterator[None]:
    """Turn a failure to load the cached file ``path`` into one :class:`WeightsFormatError`."""
    try:
        yield
    except (MissingWeightsError, WeightsFormatError):
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise WeightsFormatError(
            f'{metric}: cannot load the pretrained weights {path} ({_first_line(exc)}). Delete '
            'the file to download it again, or replace it with the original.') from None
