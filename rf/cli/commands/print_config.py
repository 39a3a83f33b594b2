"""Print a config as a run resolves it: ``python tools/print_config.py CONFIG [options]``.

The bases merged, the --cfg-options applied, the work dir set, and rf's changes before the
runner (samplers' seed, worker-only loader options off with num_workers=0), as OpenMMLab's
print_config does. The notes on what rf changed go to stderr; stdout is the config alone.
Examples:
    python tools/print_config.py configs/lol.py
    python tools/print_config.py configs/lol.py --cfg-options train_dataloader.num_workers=0
    python tools/print_config.py configs/demo.py --json
"""
import json
import os
import sys

from mmengine.config import DictAction

from rf.cli.arguments import tool_parser
from rf.cli.config_loading import load_config


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the experiment config, e.g. configs/lol.py')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries, as tools/train.py takes them')
    parser.add_argument('--work-dir', help='the work dir to show (default: work_dirs/<config '
                        'name>, as the tools set it)')
    parser.add_argument('--json', action='store_true', help='print the config as one JSON object')
    return parser.parse_args(argv)


def resolved_config(path: str, cfg_options=None, work_dir=None):
    """The config ``path`` as tools/train.py hands it to the runner, and rf's notes on it."""
    from rf.engine.runner_setup import resolve_config
    cfg = load_config(path, cfg_options=cfg_options, work_dir=work_dir)
    return cfg, resolve_config(cfg)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg, notes = resolved_config(args.config, args.cfg_options, args.work_dir)
    for note in notes:
        print(f'note: {note}', file=sys.stderr)
    text = json.dumps(cfg.to_dict(), indent=2, default=repr) if args.json else cfg.pretty_text
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
