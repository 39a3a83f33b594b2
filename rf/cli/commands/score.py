"""Score a folder of restored images against ground truth exactly as the paper's scripts do.

Usage: python tools/score.py PRED_DIR GT_DIR --protocol NAME [--mask-dir DIR]
                             [--pairing name|natsort] [--lpips auto|on|off] [--json]

Protocols (README "Scoring results as the paper does"): lol, lol_256, lol_gtmean, raindrop,
raindrop_256, istd, istd_256 (ISTD needs --mask-dir), and any a plugin registers.
Prints one row per image and the mean; with --json the last line is one JSON object with
the summary's keys at the top level (PSNR, SSIM, LPIPS, MAE_*), n and per_image.
Examples:
    python tools/score.py ../shared/data/LOL/our485/low ../shared/data/LOL/our485/high --protocol lol
    python tools/score.py results/ISTD test/test_C --mask-dir test/test_B --protocol istd_256
"""
import json
import sys

from rf.cli.arguments import tool_parser

LPIPS_CHOICES = {'auto': 'auto', 'on': True, 'off': False}


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('pred_dir', help='the restored images (PNG as saved, or any image)')
    parser.add_argument('gt_dir', help='the ground-truth images')
    parser.add_argument('--protocol', required=True,
                        help='the evaluation protocol (lol, lol_256, raindrop, istd_256, ...)')
    parser.add_argument('--mask-dir', help='the shadow masks (istd, istd_256)')
    parser.add_argument('--pairing', choices=('name', 'natsort'), default='name',
                        help='pair files by name (default) or by natural-sort position, as the '
                        "authors' scripts do")
    parser.add_argument('--lpips', choices=sorted(LPIPS_CHOICES), default='auto',
                        help='LPIPS for protocols that report it: auto (when its weights are in '
                        'the torch hub cache, default), on (required), off')
    parser.add_argument('--json', action='store_true',
                        help='end with one line of JSON (summary, n, per_image)')
    return parser.parse_args(argv)


def format_value(value) -> str:
    return f'{value:.4f}' if isinstance(value, float) else str(value)


def print_table(result: dict) -> None:
    rows = result['per_image']
    keys = [k for k in result['summary']]
    name_width = max([len('image'), len(f"mean ({result['n']})")] + [len(r['name']) for r in rows])
    widths = [max(len(k), 8) for k in keys]
    print(f"{result['protocol']}: follows {result['follows']}")
    print('  '.join(['image'.ljust(name_width)] + [k.rjust(w) for k, w in zip(keys, widths)]))
    for row in rows:
        print('  '.join([row['name'].ljust(name_width)]
                        + [format_value(row.get(k, '-')).rjust(w) for k, w in zip(keys, widths)]))
    mean = [format_value(result['summary'][k]).rjust(w) for k, w in zip(keys, widths)]
    print('  '.join([f"mean ({result['n']})".ljust(name_width)] + mean), flush=True)


def progress_bar(items):
    """mmengine's progress bar on stderr (stdout stays the table and the JSON)."""
    from mmengine.utils import ProgressBar
    items = list(items)
    bar = ProgressBar(len(items), file=sys.stderr) if len(items) > 1 else None
    for item in items:
        yield item
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stderr.write('\n')


def warn(message: str) -> None:
    print(f'warning: {message}', file=sys.stderr, flush=True)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from rf.metrics.folder_scoring import json_number, score_folders
    result = score_folders(args.pred_dir, args.gt_dir, args.protocol, mask_dir=args.mask_dir,
                           pairing=args.pairing, lpips=LPIPS_CHOICES[args.lpips],
                           progress=progress_bar, warn=warn)
    print_table(result)
    if args.json:
        summary = {k: json_number(v) for k, v in result['summary'].items()}
        per_image = [{k: json_number(v) for k, v in row.items()} for row in result['per_image']]
        print(json.dumps(dict(protocol=result['protocol'], **summary, n=result['n'],
                              per_image=per_image)), flush=True)
    return result
