"""``hf://OWNER/REPO[@REVISION][/FILE]``: a model published on the Hugging Face Hub, as a file.

Resolved with ``huggingface_hub`` and its cache, so ``HF_HOME``, ``HF_HUB_CACHE`` and
``HF_HUB_OFFLINE=1`` work as for any Hub library: a file already in the cache is used without the
network. Without FILE the repository's single ``.safetensors`` file is taken (listed on the Hub,
or in the cached snapshot when offline). Every failure is one line: a missing repository or file
names what exists; no network names the cache and how to fill it.
"""
import os
from typing import List, NamedTuple, Optional

from rf.checkpoint import CheckpointError

PREFIX = 'hf://'


class HubPath(NamedTuple):
    repo_id: str
    filename: Optional[str]
    revision: Optional[str]


def is_hub_path(path) -> bool:
    return isinstance(path, str) and path.startswith(PREFIX)


def parse_hub_path(path: str) -> HubPath:
    """``hf://owner/repo[@rev][/file/in/repo]`` -> (``owner/repo``, file or None, rev or None)."""
    parts = path[len(PREFIX):].strip('/').split('/')
    if len(parts) < 2 or not all(parts[:2]):
        raise CheckpointError(f'{path}: expected hf://OWNER/REPO or hf://OWNER/REPO/FILE '
                              '(e.g. hf://acme/resfusion-lol/lol_0123abcd.safetensors).')
    repo, _, revision = parts[1].partition('@')
    return HubPath(f'{parts[0]}/{repo}', '/'.join(parts[2:]) or None, revision or None)


def _cache_dir() -> str:
    from huggingface_hub import constants
    return constants.HF_HUB_CACHE


def _offline_error(path: str, hub: HubPath, what: str) -> CheckpointError:
    target = f'{hub.repo_id} {hub.filename}' if hub.filename else hub.repo_id
    return CheckpointError(
        f'{path}: {what} is not in the local Hugging Face cache ({_cache_dir()}) and the Hub '
        f'cannot be reached (offline or HF_HUB_OFFLINE=1). Prefill the cache on a machine with '
        f'network access: `hf download {target}` (huggingface-cli download before '
        'huggingface_hub 1.0), then copy its cache folder here or point HF_HUB_CACHE at it.')


def _single_safetensors(path: str, files: List[str], where: str) -> str:
    candidates = sorted(f for f in files if f.endswith('.safetensors'))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise CheckpointError(f'{path}: {where} holds no .safetensors file '
                              f'(files: {", ".join(sorted(files)[:10]) or "none"}).')
    raise CheckpointError(f'{path}: {where} holds several .safetensors files; name one, e.g. '
                          f'{PREFIX}{path[len(PREFIX):].rstrip("/")}/{candidates[0]} '
                          f'(candidates: {", ".join(candidates[:10])}).')


def _cached_files(path: str, hub: HubPath) -> List[str]:
    """The files of the cached snapshot (offline listing)."""
    from huggingface_hub import snapshot_download
    try:
        folder = snapshot_download(hub.repo_id, revision=hub.revision, local_files_only=True)
    except Exception:  # noqa: BLE001 - not cached: the one offline line
        raise _offline_error(path, hub, 'the repository') from None
    return [os.path.relpath(os.path.join(root, name), folder).replace(os.sep, '/')
            for root, _, names in os.walk(folder) for name in names]


def _default_file(path: str, hub: HubPath) -> str:
    from huggingface_hub import constants, list_repo_files
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    offline = getattr(constants, 'is_offline_mode', lambda: constants.HF_HUB_OFFLINE)()
    if not offline:  # is_offline_mode: huggingface_hub >= 1.0
        try:
            files = list_repo_files(hub.repo_id, revision=hub.revision)
        except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
            raise _missing_repo(path, exc) from None
        except Exception:  # noqa: BLE001 - no network: fall back to the cache
            pass
        else:
            return _single_safetensors(path, files, f'the repository {hub.repo_id}')
    return _single_safetensors(path, _cached_files(path, hub), f'the cached {hub.repo_id}')


def _missing_repo(path: str, exc: Exception) -> CheckpointError:
    from huggingface_hub.errors import RevisionNotFoundError
    if isinstance(exc, RevisionNotFoundError):
        return CheckpointError(f'{path}: no such revision on the Hub.')
    return CheckpointError(f'{path}: no such repository on the Hub (or it is private or gated: '
                           'log in with `hf auth login` or set HF_TOKEN).')


def resolve_hub_path(path: str) -> str:
    """The local (cached) file ``path`` names, downloaded into the cache when needed."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    hub = parse_hub_path(path)
    if hub.filename is None:
        hub = hub._replace(filename=_default_file(path, hub))
    try:
        return hf_hub_download(hub.repo_id, hub.filename, revision=hub.revision)
    except LocalEntryNotFoundError:  # before EntryNotFoundError: it is a subclass
        raise _offline_error(path, hub, f'the file {hub.filename}') from None
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise _missing_repo(path, exc) from None
    except EntryNotFoundError:
        raise CheckpointError(f'{path}: the repository {hub.repo_id} has no file '
                              f'{hub.filename}.') from None
