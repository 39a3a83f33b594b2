"""Route MMEngine's checkpoint loading (``load_from``, ``resume``) through rf's safe loader.

MMEngine 0.10 calls ``torch.load`` without arguments, which under torch >= 2.6 either fails on its
own ``HistoryBuffer`` or, with ``weights_only=False``, would run any code a checkpoint carries.
Replacing its local-file scheme makes every local load go through
:func:`rf.checkpoint.load_checkpoint_file`: tensors, containers and MMEngine's own objects only.
The same loader reads published ``.safetensors`` weights, and an ``hf://OWNER/REPO[/FILE]``
scheme fetches them through the Hugging Face cache, so ``load_from`` takes either.
"""
import os

from rf.checkpoint import load_checkpoint_file

_installed = False


def _load_local(filename: str, map_location=None):
    return load_checkpoint_file(os.path.expanduser(filename), map_location=map_location or 'cpu')


def _load_hub(filename: str, map_location=None):
    return load_checkpoint_file(filename, map_location=map_location or 'cpu')


def install_safe_checkpoint_loader() -> None:
    """Register the safe loader for local paths and ``hf://`` in MMEngine's
    ``CheckpointLoader`` (idempotent)."""
    global _installed
    if _installed:
        return
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_load_local, force=True)
    CheckpointLoader.register_scheme(prefixes='hf://', loader=_load_hub, force=True)
    _installed = True
