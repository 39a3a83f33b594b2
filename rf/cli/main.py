"""``rf``: one command with subcommands, in the style of ``git`` and OpenMMLab's ``mim``.

    rf train demo --work-dir W          # configs by name (rf/configs) or by path
    rf test lol W/best.pth
    rf restore demo W/iter_300.pth photo.png out/
    rf score PRED_DIR GT_DIR --protocol lol
    rf benchmark lol --size 256 256
    rf plugins
    rf config lol --cfg-options model.backbone.dim=32

Each subcommand is the tool of the same name under ``tools/`` (``rf train`` = ``python
tools/train.py``), implemented in ``rf.cli.commands``; ``rf SUBCOMMAND --help`` lists its options.
"""
import difflib
import importlib
import importlib.util
import os
import sys
from typing import Dict, List, Optional, Tuple

#: subcommand -> (module under rf.cli.commands, one line of help, runs with the malloc defaults)
COMMANDS: Dict[str, Tuple[str, str, bool]] = {
    'train': ('train', 'train a config (tools/train.py)', True),
    'test': ('test', 'test a checkpoint with the config\'s protocols (tools/test.py)', True),
    'restore': ('restore', 'restore images or folders (tools/restore.py)', True),
    'score': ('score', 'score a folder of results as the paper does (tools/score.py)', False),
    'benchmark': ('benchmark', 'measure a config\'s network (tools/benchmark.py)', True),
    'plugins': ('plugins', 'list the installed plugins (tools/list_plugins.py)', False),
    'config': ('print_config', 'print a resolved config (tools/print_config.py)', False),
    'publish': ('publish_model', 'publish a checkpoint as safetensors with a model card '
                '(tools/publish_model.py)', False),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    rows = '\n'.join(f'  {name:<{width}}  {help_}' for name, (_, help_, _) in COMMANDS.items()
                     if available(name))
    return (f'usage: rf COMMAND [options]   (rf COMMAND --help for its options)\n\n'
            f'commands:\n{rows}\n\n  --version   print rf\'s version')


def available(name: str) -> bool:
    """Whether the subcommand's module is present (a command another release adds may not be)."""
    return importlib.util.find_spec(f'rf.cli.commands.{COMMANDS[name][0]}') is not None


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(usage())
        return 0 if argv else 2
    if argv[0] == '--version':
        from rf import __version__
        print(f'rf {__version__}')
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS or not available(name):
        close = difflib.get_close_matches(name, [n for n in COMMANDS if available(n)], n=3)
        hint = f' Did you mean {" or ".join(close)}?' if close else ''
        print(f'error: rf has no command {name!r}.{hint}\n\n{usage()}', file=sys.stderr)
        return 2
    module_name, _, malloc = COMMANDS[name]
    if malloc:  # glibc malloc defaults for the heavy commands (rf/cli/malloc_defaults.py)
        from rf.cli.malloc_defaults import reexec_with_malloc_defaults
        reexec_with_malloc_defaults()
    from rf.cli.errors import run_cli
    module = importlib.import_module(f'rf.cli.commands.{module_name}')
    sys.argv = [f'rf {name}', *rest]  # argparse names the subcommand in its usage lines
    return run_cli(lambda: module.main(rest))


def entry_point() -> None:
    """The console script ``rf`` (setup.cfg)."""
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    sys.exit(main())
