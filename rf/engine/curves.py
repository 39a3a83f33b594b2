"""Training curves (loss, learning rate, validation PSNR) as one PNG, from MMEngine's
``vis_data/scalars.json``; a hook writes it at the end of training, tools/plot_curves.py any time.
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.dist import master_only
from mmengine.hooks import Hook

from rf.registry import HOOKS

Series = Dict[str, Tuple[List[float], List[float]]]


def find_scalars(work_dir: str) -> Optional[str]:
    """The newest run's ``scalars.json`` under ``work_dir`` (a work dir, one run's log dir, or
    the file itself)."""
    if osp.isfile(work_dir):
        return work_dir
    if osp.isfile(osp.join(work_dir, 'vis_data', 'scalars.json')):
        return osp.join(work_dir, 'vis_data', 'scalars.json')
    found = sorted(glob.glob(osp.join(glob.escape(work_dir), '*', 'vis_data', 'scalars.json')))
    return found[-1] if found else None


def read_series(path: str) -> Series:
    """``{name: (steps, values)}`` for every scalar; validation metrics are named ``val/NAME``."""
    series: Series = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            is_train = 'loss' in record or 'lr' in record
            step = record.get('iter', record.get('step', 0))
            for name, value in record.items():
                if name in ('iter', 'step', 'epoch', 'time', 'data_time') or not isinstance(
                        value, (int, float)):
                    continue
                key = name if is_train else f'val/{name}'
                steps, values = series.setdefault(key, ([], []))
                steps.append(step)
                values.append(float(value))
    return series


def metric_series_key(series: dict, metric: str) -> str:
    """``val/<metric>``, or the first ``val/<metric>@<protocol>`` when only protocol keys exist
    (``PSNR`` finds ``PSNR@rgb``, the paper configs' validation)."""
    exact = f'val/{metric}'
    if exact in series or '@' in metric:
        return exact
    scoped = sorted(key for key in series if key.startswith(exact + '@'))
    return scoped[0] if scoped else exact


def plot_curves(scalars_path: str, out_path: str, metric: str = 'PSNR') -> str:
    """Plot loss, learning rate and ``val/<metric>`` against the iteration; returns out_path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    series = read_series(scalars_path)
    metric = metric_series_key(series, metric)[len('val/'):]
    panels = [('loss', 'training loss', True), ('lr', 'learning rate', False),
              (f'val/{metric}', f'validation {metric}', False)]
    panels = [p for p in panels if p[0] in series]
    if not panels:
        raise ValueError(f'{scalars_path} has no loss, lr or val/{metric} values to plot.')
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for axis, (key, title, log_scale) in zip(axes[0], panels):
        steps, values = series[key]
        axis.plot(steps, values, marker='o' if len(steps) < 20 else None, linewidth=1.2)
        axis.set_title(title)
        axis.set_xlabel('iteration')
        if log_scale and min(values) > 0:
            axis.set_yscale('log')
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(out_path, dpi=100)
    plt.close(figure)
    return out_path


@HOOKS.register_module()
class PlotCurvesHook(Hook):
    """Write ``WORK_DIR/curves.png`` (loss, learning rate, validation metric) after training.

    ``after_train``, not ``after_run``: a run that only tests (tools/test.py with a training
    config) has no curves to draw and says nothing."""

    priority = 'VERY_LOW'

    def __init__(self, metric: str = 'PSNR', filename: str = 'curves.png') -> None:
        self.metric = metric
        self.filename = filename

    @master_only
    def after_train(self, runner) -> None:
        scalars = find_scalars(runner.log_dir)
        if scalars is None:
            runner.logger.warning('PlotCurvesHook: no vis_data/scalars.json (is LocalVisBackend '
                                  'in the visualizer?); no curves written.')
            return
        out = osp.join(runner.work_dir, self.filename)
        try:
            plot_curves(scalars, out, self.metric)
        except ValueError as error:
            runner.logger.warning(f'PlotCurvesHook: {error}')
            return
        runner.logger.info(f'Training curves written to {out}')
