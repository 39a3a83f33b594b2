"""Configs by name: the ones that ship with rf (``lol``, ``istd``, ``demo``, ...) or any path.

The configs live at the top of the repository (``configs/``) and inside the package
(``rf/configs``: a link to them in a checkout, a copy in a wheel), so ``rf train demo`` works
from any directory once rf is installed, as OpenMMLab packages ship theirs.
"""
import os.path as osp
from pathlib import Path
from typing import List

SHIPPED_DIR = Path(__file__).resolve().parents[1] / 'configs'


def shipped_configs() -> List[str]:
    """The names of the configs that ship with rf (``_base_`` fragments excluded)."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(path.stem for path in SHIPPED_DIR.glob('*.py'))


def resolve_config(name_or_path: str) -> str:
    """``name_or_path`` when it is a file; else the shipped config of that name (``lol`` or
    ``lol.py``). Neither gives one clear ``SystemExit`` listing the shipped names."""
    if osp.isfile(name_or_path):
        return name_or_path
    name = osp.basename(name_or_path)
    stem = name[:-3] if name.endswith('.py') else name
    if name != name_or_path and name_or_path != f'configs/{name}':  # a path, not a name
        raise SystemExit(f'Config file not found: {name_or_path}')
    shipped = SHIPPED_DIR / f'{stem}.py'
    if shipped.is_file():
        return str(shipped)
    known = ', '.join(shipped_configs()) or 'none found'
    raise SystemExit(f'Config file not found: {name_or_path} (nor a config of that name shipped '
                     f'with rf: {known}).')
