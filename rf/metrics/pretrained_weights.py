"""Local pretrained weight files for the LPIPS and FID metrics: find them, read them safely.

rf never downloads anything. A metric that needs pretrained weights takes them from its
``weights=`` argument (one path, or a list of paths whose state dicts are merged) or, when that
is None, from an environment variable; in both, one string may name several files separated
by ``os.pathsep`` (``:`` on Linux).
When no file is given or a named file is absent, :class:`MissingWeightsError` says which file is
expected, where it comes from and how to point rf at it; a file that cannot be read or has the
wrong contents raises :class:`WeightsFormatError` naming it. Tools print either as one line.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

PathOrPaths = Union[None, str, os.PathLike, Sequence[Union[str, os.PathLike]]]


class MissingWeightsError(FileNotFoundError):
    """No weight file was given, or a given one does not exist."""
    rf_user_error = True


class WeightsFormatError(ValueError):
    """A weight file that cannot be read or does not hold the expected network."""
    rf_user_error = True


def resolve_weight_paths(weights: PathOrPaths, env_var: str, metric: str, expected: str,
                         example: str) -> Tuple[List[str], str]:
    """The weight files to read and where they were named (``'weights='`` or the variable).

    ``expected`` describes the file(s) the metric needs and where to get them, ``example`` is a
    value for ``weights=`` / the variable; both go into the error raised when nothing is given or
    a path does not exist.
    """
    source = 'weights='
    if weights is None or (not isinstance(weights, (str, os.PathLike)) and not weights):
        weights, source = os.environ.get(env_var, ''), env_var
    if isinstance(weights, (str, os.PathLike)):
        paths = [p for p in os.fspath(weights).split(os.pathsep) if p]
    else:
        paths = [os.fspath(p) for p in weights]
    how = (f"Give the path in the evaluator config, dict(type='{metric}', weights='{example}'), "
           f'or in the environment variable {env_var}={example} (several files: a list, or '
           f"paths joined by '{os.pathsep}'). rf never downloads weights.")
    if not paths:
        raise MissingWeightsError(f'{metric} needs pretrained weights and no file was given. '
                                  f'Expected: {expected}. {how}')
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise MissingWeightsError(
            f"{metric} weights file {', '.join(missing)} (from {source}) does not exist. "
            f'Expected: {expected}. {how}')
    return paths, source


def read_state_dict(path: str, metric: str) -> Dict[str, torch.Tensor]:
    """The tensors of one weight file (``torch.load(weights_only=True)``: no pickled code runs).

    A plain state dict is returned as it is; a checkpoint that wraps it under ``state_dict``
    (MMEngine, Lightning) is unwrapped.
    """
    try:
        loaded = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsFormatError(f'{metric}: cannot read weights file {path} as a PyTorch state '
                                 f'dict ({type(exc).__name__}: {first}).') from None
    if isinstance(loaded, dict) and isinstance(loaded.get('state_dict'), dict):
        loaded = loaded['state_dict']
    if not isinstance(loaded, dict) or not loaded or \
            not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise WeightsFormatError(f'{metric}: weights file {path} does not hold a state dict of '
                                 f'tensors (got {type(loaded).__name__}).')
    return dict(loaded)


def read_state_dicts(paths: Sequence[str], metric: str) -> Tuple[Dict[str, torch.Tensor],
                                                                 Dict[str, str]]:
    """The merged tensors of several files and, for each key, the file it came from."""
    merged: Dict[str, torch.Tensor] = {}
    origin: Dict[str, str] = {}
    for path in paths:
        for key, value in read_state_dict(path, metric).items():
            merged[key] = value
            origin[key] = path
    return merged, origin


def check_shapes(found: Dict[str, torch.Tensor], expected: Dict[str, Tuple[int, ...]],
                 origin: Dict[str, str], metric: str, files: Sequence[str],
                 advice: Optional[str] = None) -> None:
    """Raise :class:`WeightsFormatError` for missing keys or tensors of the wrong shape."""
    missing = [k for k in expected if k not in found]
    if missing:
        shown = ', '.join(missing[:6]) + (f' and {len(missing) - 6} more' if len(missing) > 6
                                          else '')
        raise WeightsFormatError(f"{metric}: the weights in {', '.join(files)} lack {shown}."
                                 + (f' {advice}' if advice else ''))
    for key, shape in expected.items():
        if tuple(found[key].shape) != tuple(shape):
            raise WeightsFormatError(
                f'{metric}: {key} in {origin.get(key, files[0])} has shape '
                f'{tuple(found[key].shape)}, expected {tuple(shape)}: not the expected network.')
