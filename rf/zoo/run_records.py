"""What a work dir's logs say about a checkpoint: its scores and the machine that trained it.

MMEngine writes one ``<timestamp>/`` folder per run: ``<timestamp>.log`` opens with the system
environment (GPUs, process count) and ``vis_data/scalars.json`` holds one JSON record per logged
step (training records carry ``lr``; validation records carry the metrics). ``tools/test.py``
writes ``metrics.json`` (config, checkpoint, metrics) into its work dir.
"""
import glob
import json
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

_NOT_METRICS = {'time', 'data_time', 'step', 'iter', 'epoch', 'lr', 'loss', 'grad_norm', 'memory'}


def _records(scalars: str) -> List[dict]:
    records = []
    try:
        with open(scalars) as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line cut off by a killed run
    except OSError:
        return []
    return records


def _run_folders(work_dir: str) -> List[str]:
    """The work dir's run folders, oldest first (their names are timestamps)."""
    return sorted(osp.dirname(osp.dirname(p))
                  for p in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))


def _is_validation(record: dict) -> bool:
    return 'lr' not in record and 'loss' not in record and any(
        key not in _NOT_METRICS for key in record)


def validation_metrics(work_dir: str, step: int) -> Dict[str, float]:
    """The metrics validation logged at ``step`` (iteration or epoch); the latest run's when a
    resumed run validated the same step again; {} when none was logged there."""
    found: Dict[str, float] = {}
    for folder in _run_folders(work_dir):
        for record in _records(osp.join(folder, 'vis_data', 'scalars.json')):
            if _is_validation(record) and record.get('step') == step:
                found = {k: v for k, v in record.items()
                         if k not in _NOT_METRICS and isinstance(v, (int, float))}
    return found


def tested_metrics(work_dir: str, checkpoint_path: str) -> Dict[str, float]:
    """``tools/test.py``'s ``metrics.json`` in ``work_dir`` when it scored this checkpoint."""
    path = osp.join(work_dir, 'metrics.json')
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    tested = str(record.get('checkpoint', ''))
    if osp.basename(tested) != osp.basename(checkpoint_path):
        return {}
    return {k: v for k, v in (record.get('metrics') or {}).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _training_log(work_dir: str) -> Optional[str]:
    """The log of the latest run that trained (its scalars hold a learning rate)."""
    for folder in reversed(_run_folders(work_dir)):
        if any('lr' in r for r in _records(osp.join(folder, 'vis_data', 'scalars.json'))):
            logs = sorted(glob.glob(osp.join(folder, '*.log')))
            return logs[-1] if logs else None
    return None


def _environment(log_path: str) -> Dict[str, str]:
    """``key: value`` lines of the log's environment block (before its config dump)."""
    found: Dict[str, str] = {}
    with open(log_path, errors='replace') as handle:
        for number, line in enumerate(handle):
            if number > 400 or ' - Config:' in line:
                break
            match = re.match(r'^\s{4}([A-Za-z][\w ,]*?):\s(.*)$', line.rstrip('\n'))
            if match:
                found.setdefault(match.group(1), match.group(2).strip())
    return found


def training_machine(work_dir: str) -> Optional[str]:
    """E.g. ``4 process(es); GPU 0,1,2,3: NVIDIA A100-SXM4-80GB; PyTorch 2.5.1`` from the
    training log's environment block; None when no training log is there."""
    log_path = _training_log(work_dir)
    if log_path is None:
        return None
    env = _environment(log_path)
    parts = [f'{env["GPU number"]} process(es)'] if 'GPU number' in env else []
    gpus = [f'{key}: {value}' for key, value in env.items() if key.startswith('GPU ')
            and key != 'GPU number']
    if gpus:
        parts.extend(gpus)
    elif env.get('CUDA available') == 'False':
        parts.append('CPU only')
    parts.extend(f'{name} {env[name]}' for name in ('PyTorch', 'MMEngine') if name in env)
    return '; '.join(parts) or None


def work_dir_records(checkpoint_path: str, step: int
                     ) -> Tuple[Dict[str, Tuple[float, str]], Optional[str]]:
    """``({metric: (value, where it comes from)}, machine)`` from the checkpoint's folder."""
    work_dir = osp.dirname(osp.abspath(checkpoint_path))
    metrics = {key: (value, f'validation at step {step} (work dir logs)')
               for key, value in validation_metrics(work_dir, step).items()}
    metrics.update({key: (value, 'tools/test.py (work dir metrics.json)')
                    for key, value in tested_metrics(work_dir, checkpoint_path).items()})
    return metrics, training_machine(work_dir) if osp.isdir(work_dir) else None


def describe_protocol(metric: str) -> str:
    """``PSNR@lol`` -> the ``lol`` protocol; a bare name is the config's evaluator metric."""
    protocol = metric.partition('@')[2]
    if protocol:
        return f'`{protocol}` protocol (docs/design.md §3.3)'
    return 'rf metric from the config\'s evaluator (no paper protocol)'
