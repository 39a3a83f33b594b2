"""Measure a config's network: true size, MACs, inference and training speed, memory.

Prints a table, or with --json one JSON object per line (one per measured variant) with at least
params, macs_per_step, s_per_step and s_per_image. Times are medians of --runs runs after
--warmup runs. MACs are counted by torch's FlopCounterMode at the aten level, so no module
(weight-standardised convolutions included) escapes the count.

Examples:
  python tools/benchmark.py configs/lol.py --size 256 256
  python tools/benchmark.py configs/lol.py --size 256 256 --compare-plain   # vs the authors' formulation
  python tools/benchmark.py configs/lol.py --train --json
  python tools/benchmark.py configs/lol_cpu.py --loader --cfg-options \\
      train_dataloader.dataset.data_root=../shared/data/LOL
"""
import argparse
import json
import os

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog='\n'.join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--size', nargs=2, type=int, metavar=('H', 'W'), default=None,
                        help='image size for inference (default 256 256); with --train, the '
                        'patch size (default: the config\'s RandomCrop)')
    parser.add_argument('--batch', type=int, default=None,
                        help='images per pass (default 1; with --train the config\'s batch size)')
    parser.add_argument('--device', default=None, help='cpu or cuda (default: cuda if available)')
    parser.add_argument('--runs', type=int, default=5, help='timed runs (the median is reported)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs first')
    parser.add_argument('--train', action='store_true',
                        help='also time training steps (forward, backward, optimizer) at the '
                        'config\'s patch size and batch')
    parser.add_argument('--loader', action='store_true',
                        help='also time the config\'s train_dataloader alone (needs its '
                        'data_root), to compare with the training step')
    parser.add_argument('--compare-plain', action='store_true',
                        help='also time the backbone with its fast path off (docs/design.md §2.1 computed '
                        'literally, as the authors\' code does) on the same weights, and report '
                        'the speed-up and how far the outputs differ (one step, relative: '
                        'step_rel_diff; the whole restoration: image_abs_diff)')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the backbone (the fast variant only; the first call '
                        'of a shape compiles, 30-70 s on a 2-core CPU, and is not timed)')
    parser.add_argument('--math', default='tf32', choices=('fp32', 'tf32', 'fp16', 'bf16'),
                        help='GPU arithmetic of the network: fp32 (TF32 off), tf32 (TF32 in '
                        'convolutions and matrix products, rf\'s training default), fp16 or bf16 '
                        '(autocast; with --train the mixed-precision optimizer wrapper, as '
                        '--amp). Default tf32; no effect on a CPU except fp16/bf16, which the '
                        'CPU emulates slowly')
    parser.add_argument('--channels-last', action='store_true',
                        help='store the backbone and its inputs channels-last (tensor cores)')
    parser.add_argument('--json', action='store_true', help='one JSON object per line')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries')
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error('--runs must be >= 1 and --warmup >= 0')
    return args


def main(argv=None) -> int:
    # inductor's layout optimisation makes these convolutions slower on CPU (docs/design.md §7)
    os.environ.setdefault('TORCHINDUCTOR_LAYOUT_OPTIMIZATION', '0')
    args = parse_args(argv)
    import torch

    from rf.cli.benchmarking import (
        build_benchmark_model,
        compare_steps,
        loader_throughput,
        math_pipeline,
        measure_inference,
        measure_training,
        output_differences,
        train_shape,
    )
    from rf.cli.config_loading import load_config
    from rf.cli.timing import matmul_gflops

    cfg = load_config(args.config, cfg_options=args.cfg_options, required=('model',),
                      purpose='benchmarking')
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available here.')
    if args.train and args.math in ('fp16', 'bf16') and device.type != 'cuda':
        raise SystemExit(f'--train --math {args.math} needs a GPU: MMEngine\'s mixed-precision '
                         'optimizer wrapper (--amp in tools/train.py) runs on CUDA only.')
    torch.set_grad_enabled(False)

    peak = matmul_gflops(device)
    variants = [('fast', True)] + ([('plain', False)] if args.compare_plain else [])
    size = tuple(args.size or (256, 256))
    models = {}
    for name, fast in variants:
        # The plain variant stands for the authors' code: eager, whatever --compile says.
        models[name] = build_benchmark_model(cfg, device, fast_path=fast,
                                             compile=args.compile and fast)
        pipeline = math_pipeline(models[name], args.math, args.channels_last)
        if name == 'plain':  # the same weights, so that the outputs can be compared
            models[name].load_state_dict(models['fast'].state_dict())
        row = dict(config=args.config, variant=name, device=str(device), height=size[0],
                   width=size[1], batch=args.batch or 1, math=args.math,
                   channels_last=args.channels_last, matmul_gflops=round(peak, 1),
                   malloc_env=malloc_env())
        row.update(measure_inference(models[name], size, args.batch or 1, args.runs, args.warmup,
                                     pipeline=pipeline))
        report(row, args.json)
    if args.compare_plain:
        # Timed in turns, so that the machine's slow spells do not favour either variant.
        seconds = compare_steps(models, size, args.batch or 1, args.runs, warmup=0)
        report(dict(config=args.config, variant='speedup', height=size[0], width=size[1],
                    plain_s_per_step=round(seconds['plain'], 4),
                    fast_s_per_step=round(seconds['fast'], 4),
                    speedup=round(seconds['plain'] / seconds['fast'], 3),
                    **output_differences(models['fast'], models['plain'], size,
                                         args.batch or 1)), args.json)
    if args.train:
        patch, batch = train_shape(cfg)
        patch = tuple(args.size) if args.size else patch
        batch = args.batch or batch
        model = build_benchmark_model(cfg, device, fast_path=True, compile=args.compile)
        math_pipeline(model, 'fp32' if args.math == 'fp32' else 'tf32', args.channels_last)
        with torch.enable_grad():
            row = dict(config=args.config, variant='train', device=str(device), height=patch[0],
                       width=patch[1], batch=batch, math=args.math,
                       channels_last=args.channels_last)
            row.update(measure_training(model, cfg, patch, batch, args.runs, args.warmup,
                                        math=args.math))
        report(row, args.json)
    if args.loader:
        row = dict(config=args.config, variant='loader')
        row.update(loader_throughput(cfg, args.runs))
        report(row, args.json)
    return 0


def malloc_env() -> str:
    """The glibc malloc settings of this process's environment (they change CPU timings a
    lot: docs/benchmarks.md), e.g. ``MALLOC_MMAP_MAX_=0``; empty when none is set."""
    return ' '.join(f'{key}={value}' for key, value in sorted(os.environ.items())
                    if key.startswith('MALLOC_'))


def report(row: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(row), flush=True)
        return
    print(', '.join(f'{key}: {value}' for key, value in row.items()), flush=True)
