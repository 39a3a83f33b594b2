"""Plot a run's training curves: ``python tools/plot_curves.py WORK_DIR [--out PNG]``.

Reads MMEngine's vis_data/scalars.json of the newest run in WORK_DIR (or of the run folder or
the file given) and writes loss, learning rate and validation PSNR against the iteration.

Examples:
    python tools/plot_curves.py work_dirs/lol_cpu
    python tools/plot_curves.py work_dirs/lol_cpu --metric SSIM --out ssim.png
"""
import os.path as osp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from rf.cli.arguments import tool_parser  # noqa: E402


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument('work_dir', help='a work dir, one run folder, or a scalars.json')
    parser.add_argument('--out', help='the PNG to write (default: WORK_DIR/curves.png)')
    parser.add_argument('--metric', default='PSNR', help='the validation metric (default PSNR)')
    args = parser.parse_args(argv)
    from rf.engine.curves import find_scalars, plot_curves
    scalars = find_scalars(args.work_dir)
    if scalars is None:
        raise SystemExit(f'error: no vis_data/scalars.json under {args.work_dir}.')
    default_dir = args.work_dir if osp.isdir(args.work_dir) else osp.dirname(args.work_dir)
    out = args.out or osp.join(default_dir, 'curves.png')
    try:
        plot_curves(scalars, out, args.metric)
    except ValueError as error:
        raise SystemExit(f'error: {error}') from None
    print(f'curves: {scalars} -> {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
