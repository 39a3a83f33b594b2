"""Restore images from Python: build a model from a config and a checkpoint, restore arrays.

    from rf.inference import init_model, restore_image
    model = init_model('configs/lol.py', 'work_dirs/lol/best_PSNR.pth', device='cpu')
    restored = restore_image(model, image)   # (H, W, 3) uint8 RGB in, the same out
"""
import copy
from typing import Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from rf.checkpoint import CheckpointError, load_checkpoint_file
from rf.registry import MODELS


def _state_dict(checkpoint, path: str) -> dict:
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('state_dict'), dict):
        return checkpoint['state_dict']
    if isinstance(checkpoint, dict) and checkpoint and all(
            torch.is_tensor(v) for v in checkpoint.values()):
        return checkpoint
    raise CheckpointError(f'{path} holds no state_dict (expected an MMEngine checkpoint or a '
                          'plain state dict).')


def mismatch_report(own: dict, state: dict, path: str) -> Optional[str]:
    """The first missing, unexpected and wrongly shaped keys of ``state`` against ``own``, or
    None when the two match."""
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}'
              for k in own if k in state and hasattr(state[k], 'shape')
              and state[k].shape != own[k].shape]
    if not (missing or unexpected or shapes):
        return None
    lines = [f'{path} does not match the config\'s network:']
    for title, items in (('missing', missing), ('unexpected', unexpected),
                         ('wrong shape', shapes)):
        if items:
            more = f' (and {len(items) - 5} more)' if len(items) > 5 else ''
            lines.append(f'  {len(items)} {title} key(s): {", ".join(items[:5])}{more}')
    return '\n'.join(lines)


def check_weights(model: torch.nn.Module, path: str) -> dict:
    """Load ``path``'s state dict (safely); raise :class:`CheckpointError` listing the first
    mismatches when it does not fit ``model``."""
    state = _state_dict(load_checkpoint_file(path, map_location='cpu'), path)
    report = mismatch_report(model.state_dict(), state, path)
    if report:
        raise CheckpointError(report)
    return state


def load_weights(model: torch.nn.Module, path: str) -> None:
    """Load ``path`` (safely) into ``model``; a key or shape mismatch lists the first ones."""
    model.load_state_dict(check_weights(model, path))


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', seed: Optional[int] = None) -> torch.nn.Module:
    """Build ``config``'s model on ``device`` in eval mode, with ``checkpoint``'s weights (a
    ``.pth``, a published ``.safetensors`` or ``hf://OWNER/REPO[/FILE]``, docs/model_zoo.md);
    ``seed`` is the sampling seed (the config's ``model.sampler.seed``)."""
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if seed is not None:
        cfg.model.sampler = dict(cfg.model.get('sampler') or {}, seed=seed)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'rf')):
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    return model.to(device).eval()


def shadow_mask_255(mask: np.ndarray) -> np.ndarray:
    """An (H, W) mask as uint8 0/255: bool and 0/1 masks are scaled; anything else but 0/255
    is refused (a soft mask would silently lose its shadow)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'restore_image: the mask must be (H, W), got shape {mask.shape}.')
    values = set(np.unique(mask).tolist())
    if mask.dtype == bool or values <= {0, 1}:
        return mask.astype(np.uint8) * 255
    if values <= {0, 255}:
        return mask.astype(np.uint8)
    raise ValueError(f'restore_image: the mask must be binary (0/255, 0/1 or bool), got values '
                     f'such as {sorted(values)[:5]}.')


@torch.no_grad()
def restore_image(model: torch.nn.Module, image: np.ndarray, mask: Optional[np.ndarray] = None,
                  pipeline=None) -> np.ndarray:
    """Restore one (H, W, 3) uint8 RGB image of any size; returns (H, W, 3) uint8 RGB.

    ``mask`` (models whose fuser takes one, e.g. ISTD's): (H, W), shadow = 255 as in ISTD's
    files; a bool or 0/1 mask is scaled to 0/255 (the fuser tests ``mask == 255``).
    ``pipeline``: restore with this :class:`~rf.models.pipeline.RestorationPipeline` instead of
    the model's own, e.g. ``model.pipeline.replace(tile=512)`` for a large photo."""
    inputs = {'degraded': [torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))]}
    if mask is not None:
        inputs['mask'] = [torch.from_numpy(np.ascontiguousarray(shadow_mask_255(mask)[None]))]
    data = model.data_preprocessor({'inputs': inputs, 'data_samples': [BaseDataElement()]},
                                   False)
    sample = (pipeline or model.pipeline).predict(model, data['inputs'], data['data_samples'])[0]
    restored = (sample.pred_img.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return restored.permute(1, 2, 0).cpu().numpy()
