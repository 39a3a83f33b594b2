#!/usr/bin/env python
"""Print a truncated Resfusion schedule: T, the acceleration point T' and the tables.

Examples:
    python tools/print_schedule.py --schedule linear --T 12
    python tools/print_schedule.py --schedule linear --T 12 --json
"""
import argparse
import json
import sys

from rf.diffusion import TruncatedSchedule


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--schedule', default='linear',
                        help='base schedule registered in NOISE_SCHEDULES (default: linear)')
    parser.add_argument('--T', type=int, default=12, help='steps of the base schedule (default: 12)')
    parser.add_argument('--offset-threshold', type=float, default=0.01,
                        help='δ: truncate when 0.5 - √ᾱ_k exceeds it (default: 0.01)')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    return parser.parse_args(argv)


def format_table(info: dict) -> str:
    lines = [f"schedule={info['schedule']} T={info['T']} T'={info['T_acc']} "
             f"truncated={info['truncated']} (δ={info['offset_threshold']})",
             f"{'t':>5} {'beta':>12} {'alpha':>12} {'alpha_bar':>12} {'sqrt(a_bar)':>12} "
             f"{'post_var':>12}"]
    for i, (b, a, ab, pv) in enumerate(zip(info['betas'], info['alphas'], info['alphas_cumprod'],
                                           info['posterior_variance'])):
        mark = '  <- T\'' if i + 1 == info['T_acc'] else ''
        lines.append(f'{i + 1:>5} {b:>12.6f} {a:>12.6f} {ab:>12.6f} {ab ** 0.5:>12.6f} '
                     f'{pv:>12.6f}{mark}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        schedule = TruncatedSchedule(args.schedule, args.T, offset_threshold=args.offset_threshold)
    except (ValueError, KeyError) as exc:
        print(f'error: {exc.args[0] if exc.args else exc}', file=sys.stderr)
        return 2
    info = schedule.as_dict()
    print(json.dumps(info) if args.json else format_table(info))
    return 0


if __name__ == '__main__':
    sys.exit(main())
