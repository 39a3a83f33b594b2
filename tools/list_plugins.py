#!/usr/bin/env python
"""List every rf plugin: its entry point, distribution, version and the names it registered.

The command lives in ``rf.cli.commands.plugins`` (also ``rf plugins ...`` once rf is
installed); this script runs it from a checkout, as OpenMMLab's tools/ are run. ``--help`` says more.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from rf.cli.commands.plugins import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
