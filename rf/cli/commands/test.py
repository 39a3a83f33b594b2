"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``; prints the metrics.

Examples:
    python tools/test.py configs/lol.py work_dirs/lol/best_PSNR.pth \\
        --cfg-options test_dataloader.dataset.data_root=/data/LOL
    python tools/test.py configs/demo.py work_dirs/demo/iter_300.pth --out-dir restored/
    python tools/test.py configs/cifar10.py work_dirs/cifar10/epoch_3000.pth \\
        --cfg-options model.sampler.steps=20 test_dataloader.dataset.data_root=/data/cifar10
Several GPUs (or CPU processes): tools/dist_test.sh CONFIG CHECKPOINT N [options].
The metrics are also written to WORK_DIR/metrics.json. Generation configs (SampleGridHook) also
write a grid of generated samples, samples_grid.png, to --out-dir or else the work dir.
"""
import json
import os
import os.path as osp

from rf.checkpoint import resolve_checkpoint_path
from rf.cli.arguments import add_common_arguments, tool_parser
from rf.cli.config_loading import load_config
from rf.engine.distributed import finish_distributed
from rf.engine.runner_setup import build_runner
from rf.inference import check_weights


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the experiment config')
    parser.add_argument('checkpoint', help='the checkpoint to evaluate: .pth, published '
                        '.safetensors or hf://OWNER/REPO[/FILE] (docs/model_zoo.md)')
    parser.add_argument('--out-dir', help='save restored images (and input | restored | ground '
                        'truth grids in OUT_DIR/grids) here')
    parser.add_argument('--no-grid', action='store_true',
                        help='skip the grids (with --out-dir) and a generation config\'s sample '
                        'grid')
    parser.add_argument('--trajectory', type=int, default=0, metavar='N',
                        help="with --out-dir: also save the reverse process x_T' ... x_0 of the "
                        'first N images as strips in OUT_DIR/trajectories')
    parser.add_argument('--picture-scale', type=float, default=1.0, metavar='S',
                        help='resize the panels of grids and strips by S (e.g. 0.25)')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def format_metrics(metrics: dict) -> str:
    return '  '.join(f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}'
                     for k, v in metrics.items())


def place_sample_grids(cfg, args) -> None:
    """Generation configs' SampleGridHook (one grid of generated samples): into --out-dir when
    given (else the work dir), resized by --picture-scale, left out with --no-grid."""
    hooks = list(cfg.get('custom_hooks', []))
    grids = [hook for hook in hooks if str(hook.get('type', '')).split('.')[-1] == 'SampleGridHook']
    if not grids:
        return
    if args.no_grid:
        cfg.custom_hooks = [hook for hook in hooks if hook not in grids]
        return
    for hook in grids:
        if args.out_dir:
            hook['out_dir'] = args.out_dir
        hook['scale'] = hook.get('scale', 1.0) * args.picture_scale
    cfg.custom_hooks = hooks


def evaluator_quantize(cfg) -> str:
    """How the test evaluator quantises predictions ('floor' for the paper protocols'
    ProtocolMetric, 'round' otherwise), so --out-dir writes the images that were scored."""
    evaluator = cfg.get('test_evaluator') or []
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for metric in metrics:
        if str(metric.get('type', '')).split('.')[-1] == 'ProtocolMetric':
            return metric.get('quantize', 'floor')
    return 'round'


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args.config, cfg_options=args.cfg_options, launcher=args.launcher,
                      work_dir=args.work_dir, purpose='testing',
                      required=('model', 'test_dataloader', 'test_evaluator', 'test_cfg'))
    if args.trajectory and not args.out_dir:
        raise SystemExit('--trajectory needs --out-dir (where the strips go).')
    try:  # hf://... becomes its file in the Hugging Face cache
        checkpoint = resolve_checkpoint_path(args.checkpoint)
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None
    cfg.load_from = checkpoint
    cfg.resume = False
    if args.out_dir:
        hooks = list(cfg.get('custom_hooks', []))
        hooks.append(dict(type='SaveRestoredImagesHook', out_dir=args.out_dir,
                          grid=not args.no_grid, trajectory=args.trajectory,
                          scale=args.picture_scale, quantize=evaluator_quantize(cfg)))
        cfg.custom_hooks = hooks
    place_sample_grids(cfg, args)
    runner = build_runner(cfg)
    # MMEngine loads load_from non-strictly (a warning, then the test runs on random weights);
    # a checkpoint for another network is refused here, naming the first mismatched keys.
    check_weights(getattr(runner.model, 'module', runner.model), checkpoint)
    metrics = runner.test()
    if runner.rank == 0:
        os.makedirs(runner.work_dir, exist_ok=True)
        with open(osp.join(runner.work_dir, 'metrics.json'), 'w') as handle:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint, metrics=metrics),
                      handle, indent=2)
        print(f'metrics: {format_metrics(metrics)}', flush=True)
    finish_distributed()
    return metrics
