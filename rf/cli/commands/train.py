"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

Examples:
    python tools/train.py configs/demo.py
    python tools/train.py configs/lol.py --cfg-options train_dataloader.dataset.data_root=/data/LOL
    python tools/train.py configs/lol.py --resume                    # the work dir's last checkpoint
    python tools/train.py configs/lol.py --resume work_dirs/lol/iter_4000.pth
    python tools/train.py configs/lol.py --select-on val-split   # honest model selection
Several GPUs (or CPU processes): tools/dist_train.sh CONFIG N [options].
"""
import os
import sys

from rf.cli.arguments import add_common_arguments, checkpoint_path, tool_parser
from rf.cli.config_loading import load_config
from rf.engine.distributed import finish_distributed
from rf.engine.nonfinite_guard import NonFiniteLossError
from rf.engine.resume import decide_resume, elastic_restart_count, find_resume_checkpoint
from rf.engine.runner_setup import build_runner


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the experiment config, e.g. configs/lol.py')
    parser.add_argument('--resume', nargs='?', const='auto', metavar='CKPT',
                        help='resume optimizer, scheduler, iteration and RNG state: from CKPT, or '
                        "from the work dir's last checkpoint when no path is given")
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (AmpOptimWrapper; needs a GPU)')
    parser.add_argument('--select-on', choices=('test', 'val-split'), default='test',
                        help="where validation chooses the best checkpoint: 'test' (the config's "
                        "own validation, the test split for the paper configs, as the authors "
                        "did) or 'val-split' (pairs held out of the training data)")
    parser.add_argument('--hold-out-every', type=int, default=10, metavar='N',
                        help='with --select-on val-split: hold out every N-th training pair')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, cfg_options=args.cfg_options, launcher=args.launcher,
                      work_dir=args.work_dir, purpose='training',
                      required=('model', 'train_dataloader', 'train_cfg', 'optim_wrapper'))
    if args.select_on == 'val-split':
        from rf.engine.model_selection import select_on_validation_split
        select_on_validation_split(cfg, args.hold_out_every)
        print(f'--select-on val-split: validating on every {args.hold_out_every}th training pair, '
              'held out of training; the test split is left to tools/test.py.', file=sys.stderr)
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU: mixed precision on this CPU would be bf16, which '
                             'is emulated and much slower than fp32.')
        guarded = cfg.optim_wrapper.get('type') in ('GuardedOptimWrapper',
                                                    'rf.GuardedOptimWrapper')
        cfg.optim_wrapper.type = 'GuardedAmpOptimWrapper' if guarded else 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    # Resolved here, not by MMEngine: a copied work dir's last_checkpoint names the old path, and
    # a worker that torchrun restarted (dist_train.sh with MAX_RESTARTS) resumes unasked.
    requested = args.resume if args.resume in (None, 'auto') else checkpoint_path(args.resume)
    checkpoint, note = decide_resume(cfg.work_dir, requested)
    if checkpoint:
        cfg.resume, cfg.load_from = True, checkpoint
    elif args.resume == 'auto' or elastic_restart_count() > 0:
        cfg.resume = False  # nothing to resume: the config's load_from (weights only) still holds
    if note and os.environ.get('RANK', '0') == '0':
        print(note, file=sys.stderr)
    runner = build_runner(cfg)
    try:
        runner.train()
    except NonFiniteLossError as error:
        last = find_resume_checkpoint(runner.work_dir)
        kept = f' The last good checkpoint is {last}.' if last else ' No checkpoint was saved yet.'
        raise SystemExit(f'error: {error}{kept}') from None
    finish_distributed()
