"""Restore your own images: ``python tools/restore.py CONFIG CKPT INPUT OUTDIR``.

INPUT is one image or a folder of images (any size: they are padded for the network and cropped
back). Each result is written as OUTDIR/<name>.png (<name>_<ext>.png when two inputs share a
name); OUTDIR may not be the input folder, so an input is never overwritten. Unreadable
files are skipped and named; the exit status is non-zero only when nothing could be restored.

Examples:
    python tools/restore.py configs/lol.py lol.pth my_dark_photo.jpg restored/
    python tools/restore.py configs/demo.py work_dirs/demo/iter_300.pth photos/ restored/ --seed 1
    python tools/restore.py configs/lol.py lol.pth huge_scan.png restored/ --tile 512
"""
import os
import os.path as osp
import sys

from mmengine.config import DictAction

from rf.cli.arguments import tool_parser
from rf.cli.config_checks import require_keys
from rf.cli.config_names import resolve_config


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the checkpoint: .pth, published .safetensors or '
                        'hf://OWNER/REPO[/FILE] (docs/model_zoo.md)')
    parser.add_argument('input', help='an image, or a folder of images')
    parser.add_argument('outdir', help='where the restored PNGs go (created if needed)')
    parser.add_argument('--seed', type=int, default=0,
                        help='sampling seed: the same seed gives the same output (default 0)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: cuda when available)')
    parser.add_argument('--tile', type=int, default=None, metavar='N',
                        help='for images too large for memory: run the network on overlapping '
                        'N x N tiles (N a multiple of 8), blended at every step')
    parser.add_argument('--tile-overlap', type=int, default=32, metavar='M',
                        help='pixels shared by neighbouring tiles (default 32)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config entries (e.g. model.sampler.seed=3)')
    return parser.parse_args(argv)


def list_inputs(path: str):
    from rf.datasets.image_io import is_image_file
    if osp.isfile(path):
        return [path], []
    if not osp.isdir(path):
        raise SystemExit(f'Input not found: {path}')
    names = sorted(os.listdir(path))
    files = [osp.join(path, n) for n in names if osp.isfile(osp.join(path, n))]
    images = [f for f in files if is_image_file(f)]
    others = [f for f in files if not is_image_file(f)]
    return images, others


def output_paths(sources, outdir: str) -> dict:
    """``OUTDIR/<stem>.png`` per input; inputs that share a stem (photo.jpg, photo.png) get
    ``<stem>_<ext>.png`` so that no result replaces another."""
    stems = {}
    for source in sources:
        stems.setdefault(osp.splitext(osp.basename(source))[0], []).append(source)
    paths = {}
    for stem, group in stems.items():
        for source in group:
            name = stem if len(group) == 1 else f'{stem}_{osp.splitext(source)[1].lstrip(".")}'
            paths[source] = osp.join(outdir, name + '.png')
    return paths


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.utils import ProgressBar

    from rf.checkpoint import resolve_checkpoint_path
    from rf.datasets.image_io import ImageReadError, read_rgb, write_rgb
    from rf.inference import init_model, restore_image

    args.config = resolve_config(args.config)  # a path or the name of a shipped config
    try:  # hf://... becomes its file in the Hugging Face cache
        checkpoint = resolve_checkpoint_path(args.checkpoint)
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None
    images, others = list_inputs(args.input)
    if not images:
        raise SystemExit(f'No images found in {args.input}.')
    inputs = {osp.realpath(p) for p in images}
    outputs = output_paths(images, args.outdir)
    collisions = [p for p in images if osp.realpath(outputs[p]) in inputs]
    input_folders = {osp.realpath(osp.dirname(p) or '.') for p in images}
    if collisions or osp.realpath(args.outdir) in input_folders:
        named = ', '.join((collisions or images)[:3])
        raise SystemExit(f'Refusing to write into the input folder (it could overwrite '
                         f'{named}): choose an OUTDIR other than the input folder.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    require_keys(cfg, ('model',), args.config, 'restoring')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_model(cfg, checkpoint, device=device, seed=args.seed)
    pipeline = None
    if args.tile is not None:
        try:
            pipeline = model.pipeline.replace(tile=args.tile, tile_overlap=args.tile_overlap)
        except ValueError as error:
            raise SystemExit(f'--tile/--tile-overlap: {error}') from None

    os.makedirs(args.outdir, exist_ok=True)
    failed = [(p, 'not an image file') for p in others]
    restored = 0
    progress = ProgressBar(len(images), file=sys.stderr)
    for path in images:
        try:
            image = read_rgb(path)
        except ImageReadError as error:
            failed.append((path, str(error)))
        else:
            write_rgb(restore_image(model, image, pipeline=pipeline), outputs[path])
            restored += 1
        progress.update()
    sys.stderr.write('\n')
    for path, reason in failed:
        print(f'skipped {path}: {reason}', file=sys.stderr)
    print(f'restored {restored} of {len(images)} image(s) -> {args.outdir}')
    return 0 if restored else 1
