"""Publish a checkpoint: portable weights, the resolved config and a model card in one folder.

``OUT_DIR/<config name>_<sha256[:8]>.safetensors`` holds the weights a user deploys (the moving
average when the checkpoint has one, :mod:`rf.zoo.weights`) with the model's own keys;
``config.py`` is the config they were trained with (MMEngine stores it in every checkpoint's
``meta['cfg']``; converted or plain checkpoints need one given), with ``work_dir``, ``load_from``
and ``resume`` cleared; ``MODEL_CARD.md`` describes them (:mod:`rf.zoo.model_card`). Nothing is
written unless all three can be: an existing different file is refused, and so is a second
model's weights in the same folder.
"""
import copy
import glob
import hashlib
import os
import os.path as osp
import re
from typing import Dict, Optional, Tuple, Union

from mmengine.config import Config

from rf.checkpoint import CheckpointError, load_checkpoint_file
from rf.engine.atomic_files import atomic_write_bytes
from rf.zoo.model_card import render_model_card
from rf.zoo.run_records import work_dir_records
from rf.zoo.safetensors_io import SUFFIX, portable_tensors, safetensors_bytes
from rf.zoo.weights import published_weights

CONFIG_FILE = 'config.py'
CARD_FILE = 'MODEL_CARD.md'
_CLEARED = dict(load_from=None, resume=False)


class PublishError(CheckpointError):
    """A checkpoint that cannot be published, or an output folder that would be overwritten."""


def _safe_name(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or 'model'


def resolve_config(meta: dict, config: Union[str, Config, None], source: str
                   ) -> Tuple[Config, str, Optional[str]]:
    """``(config, name, load_from)``: the given config (file or object), else the one MMEngine
    recorded; ``load_from`` is the weights the run started from, before it is cleared."""
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
        name = osp.splitext(osp.basename(cfg.filename or 'model'))[0]
    elif config is not None:
        if not osp.isfile(config):
            raise PublishError(f'Config file not found: {config}')
        cfg, name = Config.fromfile(config), osp.splitext(osp.basename(config))[0]
    elif isinstance(meta.get('cfg'), str):
        cfg = Config.fromstring(meta['cfg'], file_format='.py')
        name = re.sub(r'_\d{8}_\d{6}$', '', str(meta.get('experiment_name') or 'model'))
    else:
        raise PublishError(f'{source} records no config (a converted or plain checkpoint): '
                           'give the one it was trained with (--config CONFIG).')
    if 'model' not in cfg:
        raise PublishError(f'The config for {source} has no model.')
    started = cfg.get('load_from')
    cfg._cfg_dict.pop('work_dir', None)  # the publisher's folder means nothing elsewhere
    cfg.merge_from_dict(_CLEARED)
    return cfg, _safe_name(name), str(started) if started else None


def check_against_config(cfg: Config, state: dict, source: str) -> int:
    """Build the config's network and compare keys and shapes; returns the parameter count."""
    from rf.inference import init_model, mismatch_report
    own = init_model(cfg).state_dict()
    report = mismatch_report(own, state, source)
    if report:
        raise PublishError(report)
    return sum(value.numel() for value in state.values())


def _training_step(cfg: Config, meta: dict) -> Optional[int]:
    by_epoch = 'max_epochs' in (cfg.get('train_cfg') or {})
    step = meta.get('epoch' if by_epoch else 'iter')
    return step if isinstance(step, int) else None


def _gather_metrics(checkpoint_path: str, step: Optional[int], metrics: Optional[dict]):
    found, machine = ({}, None) if step is None else work_dir_records(checkpoint_path, step)
    for key, value in (metrics or {}).items():
        found[str(key)] = (float(value), 'given at publishing')
    return found, machine


def _refuse_conflicts(out_dir: str, files: Dict[str, bytes]) -> None:
    weights = next(name for name in files if name.endswith(SUFFIX))
    others = [osp.basename(p) for p in glob.glob(osp.join(glob.escape(out_dir), '*' + SUFFIX))
              if osp.basename(p) != weights]
    if others:
        raise PublishError(f'{out_dir} already holds other weights ({", ".join(sorted(others))}); '
                           'publish each model into a folder of its own.')
    for name, data in files.items():
        path = osp.join(out_dir, name)
        if osp.isdir(path):
            raise PublishError(f'{path} is a folder; choose another OUT_DIR.')
        if osp.isfile(path):
            with open(path, 'rb') as handle:
                if handle.read() != data:
                    raise PublishError(f'{path} exists and differs from what would be written; '
                                       'remove it or choose another OUT_DIR.')


def publish(checkpoint_path: str, out_dir: str, config: Union[str, Config, None] = None,
            metrics: Optional[Dict[str, float]] = None) -> dict:
    """Write the weights, ``config.py`` and ``MODEL_CARD.md`` into ``out_dir``; returns
    ``{'weights', 'config', 'model_card': paths, 'sha256', 'weights_kind'}``.

    ``metrics``: extra scores, named with their protocol (``{'PSNR@lol': 23.1}``); the
    checkpoint's work dir adds what its logs hold for this checkpoint's step."""
    checkpoint_path = os.fspath(checkpoint_path)
    try:
        checkpoint = load_checkpoint_file(checkpoint_path)
    except OSError as exc:
        raise PublishError(f'Cannot read {checkpoint_path}: {exc.strerror}' if exc.strerror
                           else str(exc)) from None
    state, kind = published_weights(checkpoint, checkpoint_path)
    meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
    cfg, name, started_from = resolve_config(dict(meta), config, checkpoint_path)
    tensors = portable_tensors(state, checkpoint_path)
    parameters = check_against_config(cfg, tensors, checkpoint_path)
    data = safetensors_bytes(tensors, metadata=dict(format='pt', producer='rf publish',
                                                    config=name, weights=kind))
    sha256 = hashlib.sha256(data).hexdigest()
    weights_file = f'{name}_{sha256[:8]}{SUFFIX}'
    found, machine = _gather_metrics(checkpoint_path, _training_step(cfg, meta), metrics)
    card = render_model_card(name, weights_file, sha256, kind, cfg, dict(meta), found, machine,
                             parameters, started_from)
    files = {weights_file: data, CONFIG_FILE: cfg.pretty_text.encode(),
             CARD_FILE: card.encode()}
    _refuse_conflicts(out_dir, files)
    for file_name, content in files.items():
        atomic_write_bytes(osp.join(out_dir, file_name), content)
    return dict(weights=osp.join(out_dir, weights_file), config=osp.join(out_dir, CONFIG_FILE),
                model_card=osp.join(out_dir, CARD_FILE), sha256=sha256, weights_kind=kind)
