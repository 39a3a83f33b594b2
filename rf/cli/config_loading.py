"""A config as a command runs it: read, overridden, checked, with its launcher and work dir."""
import os.path as osp
import sys
from typing import Mapping, Optional, Sequence

from mmengine.config import Config

from rf.cli.config_checks import require_keys, unknown_override_keys
from rf.cli.config_names import resolve_config


def load_config(path: str, *, cfg_options: Optional[Mapping] = None, launcher: str = 'none',
                work_dir: Optional[str] = None, required: Sequence[str] = (),
                purpose: str = '') -> Config:
    """Read ``path`` (or the shipped config of that name), apply ``cfg_options`` (warning about
    keys the config does not have), check that the ``required`` keys are there (for
    ``purpose``, named in the error), and set the launcher and the work dir (default
    ``work_dirs/<config name>``)."""
    path = resolve_config(path)  # a path, or the name of a config shipped with rf
    cfg = Config.fromfile(path)
    if cfg_options:
        for warning in unknown_override_keys(cfg, cfg_options):
            print(f'warning: {warning}', file=sys.stderr)
        cfg.merge_from_dict(cfg_options)
    require_keys(cfg, required, path, purpose)
    cfg.launcher = launcher
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg
