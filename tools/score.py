#!/usr/bin/env python
"""Score a folder of restored images against ground truth exactly as the paper's scripts do.

The command lives in ``rf.cli.commands.score`` (also ``rf score ...`` once rf is
installed); this script runs it from a checkout, as OpenMMLab's tools/ are run. ``--help`` says more.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from rf.cli.commands.score import main  # noqa: E402
from rf.cli.errors import run_cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_cli(main))
