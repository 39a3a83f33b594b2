"""A tiny training setup shared by the end-to-end and crash-safety tests: a config over
configs/demo.py with an 8-channel U-Net, generated image pairs, and a subprocess runner."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np

from conftest import REPO_ROOT

PYTHON = sys.executable

TINY_CONFIG = """
_base_ = ['{repo}/configs/demo.py']
data_root = '{data}'
train_pipeline = [
    dict(type='LoadRestorationImages'),
    dict(type='PairedAlbumentations', transforms=[dict(type='RandomCrop', height=32, width=32),
                                                  dict(type='HorizontalFlip', p=0.5)]),
    dict(type='PackRestorationInputs'),
]
test_pipeline = [dict(type='LoadRestorationImages'), dict(type='PackRestorationInputs')]
model = dict(backbone=dict(dim=8, dim_mults=(1, 2)))
train_dataloader = dict(
    batch_size=2, num_workers={workers}, persistent_workers=False,
    dataset=dict(_delete_=True, type='PairedImageDataset', data_root=data_root,
                 degraded_dir='train/low', gt_dir='train/high', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(_delete_=True, type='PairedImageDataset', data_root=data_root,
                 degraded_dir='test/low', gt_dir='test/high', pipeline=test_pipeline))
test_dataloader = val_dataloader
test_evaluator = [dict(type='PSNR'), dict(type='SSIM'), dict(type='PSNR', source='input')]
train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=4, T_max=4,
                        eta_min=1e-5)]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=5),
                     logger=dict(interval=1))
"""


def write_pairs(folder, rng, sizes):
    for i, (height, width) in enumerate(sizes):
        gt = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        low = (gt // 4).astype(np.uint8)
        for sub, image in (('high', gt), ('low', low)):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / sub / f'{i:03d}.png'), image)


def make_tiny_setup(root, extra_config: str = ''):
    """Generated train/test pairs under ``root/data`` and the tiny config with 0 and 1 loader
    workers (``{0: path, 1: path}``); ``extra_config`` is appended to both configs."""
    rng = np.random.default_rng(0)
    write_pairs(root / 'data' / 'train', rng, [(40, 48)] * 4)
    write_pairs(root / 'data' / 'test', rng, [(37, 45), (24, 40)])  # odd sizes: padding
    configs = {}
    for workers in (0, 1):
        path = root / f'tiny_w{workers}.py'
        path.write_text(TINY_CONFIG.format(repo=REPO_ROOT, data=root / 'data', workers=workers)
                        + extra_config)
        configs[workers] = path
    return configs


def run(*args, env=None, check=True):
    full_env = dict(os.environ, OMP_NUM_THREADS='1', **(env or {}))
    result = subprocess.run([PYTHON, *map(str, args)], cwd=REPO_ROOT, env=full_env,
                            capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


def val_metrics(work_dir):
    """The validation metrics the training run logged (LocalVisBackend's scalars.json)."""
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if any(key == 'PSNR' or key.startswith('PSNR@') for key in record):
                return record
    raise AssertionError(f'no validation metrics under {work_dir}')


def save_untrained_checkpoint(config, path, seed=0, overrides=None):
    """The seeded, untrained weights of ``config``'s model saved as an MMEngine-style checkpoint
    (restore/test plumbing needs weights, not training); ``overrides`` are dotted config keys,
    as ``--cfg-options`` takes them."""
    import torch
    from mmengine.config import Config

    from rf.inference import init_model
    cfg = Config.fromfile(str(config))
    if overrides:
        cfg.merge_from_dict(overrides)
    torch.manual_seed(seed)
    torch.save({'state_dict': init_model(cfg).state_dict()}, path)
    return path


def run_restore(config, checkpoint, source, outdir, *extra):
    """tools/restore.py on the CPU with one thread; the CompletedProcess (never raises)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    return subprocess.run([PYTHON, 'tools/restore.py', str(config), str(checkpoint),
                           str(source), str(outdir), '--device', 'cpu', *map(str, extra)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
