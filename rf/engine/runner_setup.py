"""What tools/train.py and tools/test.py share: config loading, overrides and runner building."""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from rf.engine.distributed import check_gpu_expected, init_cpu_distributed
from rf.engine.error_messages import require_keys, unknown_override_keys
from rf.engine.safe_loading import install_safe_checkpoint_loader


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose description is the docstring's first line and whose epilog is the rest."""
    lines = doc.strip().splitlines()
    return argparse.ArgumentParser(description=lines[0], epilog='\n'.join(lines[2:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, e.g. '
                        'train_dataloader.dataset.data_root=/data/LOL train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh sets pytorch)')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def load_config(path: str, args: argparse.Namespace, required: Sequence[str] = (),
                purpose: str = '') -> Config:
    """Read ``path``, apply ``--cfg-options`` (warning about keys the config does not have),
    check that the ``required`` keys are there, set the launcher and the work dir."""
    if not osp.isfile(path):
        raise SystemExit(f'Config file not found: {path}')
    cfg = Config.fromfile(path)
    if getattr(args, 'cfg_options', None):
        for warning in unknown_override_keys(cfg, args.cfg_options):
            print(f'warning: {warning}', file=sys.stderr)
        cfg.merge_from_dict(args.cfg_options)
    require_keys(cfg, required, path, purpose)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def seed_samplers(cfg: Config) -> None:
    """Give each loader's sampler the config's seed unless it names its own.

    With ``randomness.diff_rank_seed`` (each rank its own noise) MMEngine stops passing the seed
    to the samplers, which would then draw their shuffling seed at random (shared by the ranks,
    but unlike before). The explicit seed keeps the data order that single-process runs had,
    and is the same on every rank, as the sampler's sharding needs.
    """
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is None:
        return
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        sampler = (cfg.get(name) or {}).get('sampler')
        if isinstance(sampler, dict) and 'seed' not in sampler:
            sampler['seed'] = seed


def build_runner(cfg: Config):
    """``Runner.from_cfg`` after rf's setup: safe checkpoint loading, no silent CPU run where GPUs
    are expected, gloo on CPU-only machines."""
    install_safe_checkpoint_loader()
    check_gpu_expected()
    seed_samplers(cfg)
    init_cpu_distributed(cfg.get('launcher', 'none'))
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg)


def checkpoint_path(value: Optional[str]) -> Optional[str]:
    if value is not None and not osp.isfile(value):
        raise SystemExit(f'Checkpoint file not found: {value}')
    return value
