#!/usr/bin/env python
"""Publish a checkpoint as a portable model: ``python tools/publish_model.py CKPT OUT_DIR``.

The command lives in ``rf.cli.commands.publish_model`` (also ``rf publish ...`` once rf is
installed); this script runs it from a checkout, as OpenMMLab's tools/ are run. ``--help`` says more.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from rf.cli.commands.publish_model import main  # noqa: E402
from rf.cli.errors import run_cli  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_cli(main))
