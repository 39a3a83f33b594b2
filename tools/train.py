#!/usr/bin/env python
"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

The command lives in ``rf.cli.commands.train`` (also ``rf train ...`` once rf is
installed); this script runs it from a checkout, as OpenMMLab's tools/ are run. ``--help`` says more.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout
if __name__ == '__main__':  # glibc malloc defaults (rf/cli/malloc_defaults.py)
    from rf.cli.malloc_defaults import reexec_with_malloc_defaults
    reexec_with_malloc_defaults()

from rf.cli.commands.train import main  # noqa: E402
from rf.cli.errors import run_cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_cli(main))
