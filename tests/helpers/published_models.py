"""Tiny models and checkpoints for the publishing and loading tests, built in process: the demo
config's model at 8 channels, MMEngine-style checkpoints written with torch.save, a work dir's
logs, and a Hugging Face cache laid out by hand (no network)."""
import json
import shutil

import torch
from mmengine.config import Config

from conftest import REPO_ROOT

REVISION = '0123456789abcdef0123456789abcdef01234567'  # a commit hash, as the cache names them


def tiny_config() -> Config:
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'demo.py'))
    cfg.merge_from_dict({'model.backbone.dim': 8, 'model.backbone.dim_mults': (1, 2)})
    return cfg


def tiny_weights(cfg: Config, seed: int) -> dict:
    from rf.inference import init_model
    torch.manual_seed(seed)
    return init_model(cfg).state_dict()


def save_mmengine_checkpoint(path, cfg: Config, averaged: dict, raw: dict, iteration=4):
    """What MMEngine writes with an EMAHook: the average as ``state_dict`` (EMAHook swaps it in
    before saving), the raw weights as ``ema_state_dict`` under ``module.`` with ``steps``."""
    ema = {'steps': torch.tensor(iteration)}
    ema.update({'module.' + key: value for key, value in raw.items()})
    meta = dict(cfg=cfg.pretty_text, experiment_name='tiny_20260101_120000', seed=0,
                iter=iteration, epoch=0, time='20260101_120500', mmengine_version='0.10.7')
    torch.save({'meta': meta, 'state_dict': averaged, 'ema_state_dict': ema,
                'message_hub': {}, 'optimizer': {'state': {}, 'param_groups': []}}, path)
    return path


LOG_HEAD = """2026/01/01 12:00:00 - mmengine - INFO -
------------------------------------------------------------
System environment:
    sys.platform: linux
    CUDA available: True
    GPU 0,1: NVIDIA H200
    PyTorch: 2.5.1
    MMEngine: 0.10.7

Runtime environment:
    Distributed training: True
    GPU number: 2
------------------------------------------------------------

2026/01/01 12:00:01 - mmengine - INFO - Config:
model = dict(type='Resfusion')
"""


def write_run_logs(work_dir, validation: dict, step: int = 4) -> None:
    """A training run's folder as MMEngine writes it: the log's environment block and
    scalars.json with training records and one validation record at ``step``."""
    run = work_dir / '20260101_120000'
    (run / 'vis_data').mkdir(parents=True)
    (run / '20260101_120000.log').write_text(LOG_HEAD)
    records = [dict(lr=1e-3, loss=1.0, time=0.1, iter=i, step=i) for i in range(1, step + 1)]
    records.append(dict(validation, data_time=0.01, time=0.2, step=step))
    records.insert(2, dict(PSNR=1.0, time=0.2, step=2))  # an earlier validation
    (run / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps(record) for record in records) + '\n')


def fill_hub_cache(cache, repo_id: str, files) -> None:
    """``cache/models--OWNER--REPO/snapshots/<rev>/<file>`` and ``refs/main``, as
    huggingface_hub lays out a download (files copied instead of linked to blobs)."""
    repo = cache / ('models--' + repo_id.replace('/', '--'))
    snapshot = repo / 'snapshots' / REVISION
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, snapshot / name)
    (repo / 'refs').mkdir(exist_ok=True)
    (repo / 'refs' / 'main').write_text(REVISION)
