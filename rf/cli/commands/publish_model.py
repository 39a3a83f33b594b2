"""Publish a checkpoint as a portable model: ``python tools/publish_model.py CKPT OUT_DIR``.

Writes OUT_DIR/<config name>_<sha256[:8]>.safetensors (the moving average of the weights when
the checkpoint has one), OUT_DIR/config.py (the config it was trained with, from the checkpoint
or --config) and OUT_DIR/MODEL_CARD.md (task, network, data, training, metrics with their
protocol, licence); prints the paths and the sha256. An existing different file is refused.
docs/model_zoo.md says how a published model is loaded (a path or hf://OWNER/REPO).

Examples:
    python tools/publish_model.py work_dirs/lol/epoch_5000.pth zoo/lol/
    python tools/publish_model.py lol_resfusion_rf.pth zoo/lol_official/ --config configs/lol.py
    python tools/publish_model.py work_dirs/lol_cpu/iter_500.pth zoo/lol_cpu/ \\
        --metric PSNR@lol=19.83 --metric SSIM@lol=0.741 --json
"""
import json

from rf.cli.arguments import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('checkpoint', help='the checkpoint to publish (.pth)')
    parser.add_argument('out_dir', help='the folder the model is written to (created if needed)')
    parser.add_argument('--config', help='the config the checkpoint was trained with (default: '
                        'the one MMEngine recorded in it; needed for converted checkpoints)')
    parser.add_argument('--metric', action='append', default=[], metavar='NAME=VALUE',
                        help='a score for the model card, named with its protocol '
                        '(e.g. PSNR@lol=23.1); repeatable. The checkpoint\'s work dir adds '
                        'the validation and tools/test.py scores it logged')
    parser.add_argument('--json', action='store_true',
                        help='end with one line of JSON (weights, config, model_card, sha256)')
    return parser.parse_args(argv)


def parse_metrics(items) -> dict:
    metrics = {}
    for item in items:
        name, sep, value = item.partition('=')
        try:
            metrics[name.strip()] = float(value)
        except ValueError:
            sep = ''
        if not sep or not name.strip():
            raise SystemExit(f'--metric {item}: expected NAME=NUMBER, e.g. PSNR@lol=23.1')
    return metrics


def main(argv=None) -> int:
    args = parse_args(argv)
    metrics = parse_metrics(args.metric)
    from rf.zoo.publish import publish
    result = publish(args.checkpoint, args.out_dir, config=args.config, metrics=metrics)
    print(f'weights:    {result["weights"]}')
    print(f'config:     {result["config"]}')
    print(f'model card: {result["model_card"]}')
    print(f'sha256:     {result["sha256"]}', flush=True)
    if args.json:
        print(json.dumps(result), flush=True)
    return 0
