"""Arguments the command-line tools share: the parser, the common options, a checked path."""
import argparse
import os.path as osp
from typing import Optional

from mmengine.config import DictAction


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose description is the docstring's first line and whose epilog is the rest."""
    lines = doc.strip().splitlines()
    return argparse.ArgumentParser(description=lines[0], epilog='\n'.join(lines[2:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options`` and ``--launcher``, as OpenMMLab tools have them."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, e.g. '
                        'train_dataloader.dataset.data_root=/data/LOL train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh sets pytorch, tools/slurm_train.sh slurm)')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def checkpoint_path(value: Optional[str]) -> Optional[str]:
    """``value`` if it names a file (or is None); otherwise exit with a one-line message."""
    if value is not None and not osp.isfile(value):
        raise SystemExit(f'Checkpoint file not found: {value}')
    return value
