"""Write restored images, side-by-side grids (input | restored | ground truth) and reverse-process
strips (x_T' ... x_0), at test time or at every validation."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from rf.datasets.image_io import write_rgb
from rf.metrics.protocols.base import QUANTIZE_MODES
from rf.metrics.protocols.base import quantize as quantize_image
from rf.models.pipeline import TRAJECTORY_KEY
from rf.registry import HOOKS


def to_hwc_uint8(image: torch.Tensor, quantize: str = 'round') -> np.ndarray:
    """(C, H, W) uint8, or float in [0, 1] -> (H, W, 3) uint8 (``quantize``: 'round' or
    'floor', see :func:`rf.metrics.protocols.quantize`)."""
    array = quantize_image(image, quantize)
    return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array


def side_by_side(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images of one height next to each other, separated by white gaps."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), 255, np.uint8)
    parts = []
    for image in images:
        parts.extend([image, spacer])
    return np.concatenate(parts[:-1], axis=1)


@HOOKS.register_module()
class SaveRestoredImagesHook(Hook):
    """Save restorations, grids and reverse-process strips.

    Args:
        out_dir: where to write; for ``phase='val'`` default ``WORK_DIR/val_pictures``, with one
            ``iter_N`` (or ``epoch_N``) folder per validation.
        grid: also write ``grids/<img_id>.png``: input | restored | ground truth.
        trajectory: write ``trajectories/<img_id>.png`` for the first N images: the input, then
            x_T', ..., x_1, x_0 (the restored image), then the ground truth.
        phase: ``'test'`` (every image, as tools/test.py --out-dir) or ``'val'`` (pictures of
            the first ``max_images`` at each validation, also sent to the visualizer, so
            TensorBoard shows them).
        max_images: with ``phase='val'``, how many images to picture (default 4).
        scale: resize the panels of grids and strips by this factor (e.g. 0.25 for pictures
            small enough for a README); restored images are always written at full size.
        quantize: how restored images become 8-bit: ``'round'`` (nearest) or ``'floor'`` (the
            authors' truncation; tools/test.py takes the test evaluator's, so that
            ``tools/score.py`` on the written files gives the numbers tools/test.py printed).

    A file that would replace one of the sample's own inputs is refused.
    """

    priority = 'LOW'

    def __init__(self, out_dir: Optional[str] = None, grid: bool = True, trajectory: int = 0,
                 phase: str = 'test', max_images: Optional[int] = None,
                 scale: float = 1.0, quantize: str = 'round') -> None:
        if quantize not in QUANTIZE_MODES:
            raise ValueError(f'SaveRestoredImagesHook: quantize must be one of {QUANTIZE_MODES}, '
                             f'got {quantize!r}.')
        self.quantize = quantize
        if phase not in ('test', 'val'):
            raise ValueError(f"SaveRestoredImagesHook: phase must be 'test' or 'val', got "
                             f'{phase!r}.')
        if phase == 'test' and out_dir is None:
            raise ValueError("SaveRestoredImagesHook(phase='test') needs out_dir.")
        self.out_dir = out_dir
        self.grid = grid
        self.trajectory = int(trajectory)
        self.phase = phase
        self.max_images = max_images if max_images is not None else (4 if phase == 'val' else None)
        self.scale = float(scale)
        self.count = 0
        self._folder = out_dir
        self._trajectories_left = 0

    def _start(self, runner, folder: str) -> None:
        self.count = 0
        self._folder = folder
        self._trajectories_left = self.trajectory

    def _ask_for_trajectories(self, data_batch: Optional[dict]) -> None:
        """Mark the batch's first samples (while some are still wanted) so that the model's
        pipeline returns their reverse trajectory: the request travels with the data."""
        for sample in (data_batch or {}).get('data_samples') or []:
            if self._trajectories_left <= 0:
                return
            sample.set_metainfo({TRAJECTORY_KEY: True})
            self._trajectories_left -= 1

    def _finish(self, runner) -> None:
        self._trajectories_left = 0

    def before_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        if self.phase == 'test':
            self._ask_for_trajectories(data_batch)

    def before_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        if self.phase == 'val':
            self._ask_for_trajectories(data_batch)

    def before_test_epoch(self, runner) -> None:
        if self.phase == 'test':
            self._start(runner, self.out_dir)

    def before_val_epoch(self, runner) -> None:
        if self.phase == 'val':
            root = self.out_dir or osp.join(runner.work_dir, 'val_pictures')
            by_epoch = isinstance(getattr(runner, '_train_loop', None), EpochBasedTrainLoop)
            step = f'epoch_{runner.epoch}' if by_epoch else f'iter_{runner.iter}'
            self._start(runner, osp.join(root, step))

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.phase == 'test':
            self._save(runner, data_batch, outputs, save_restored=True)

    def after_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        if self.phase == 'val':
            self._save(runner, data_batch, outputs, save_restored=False)

    @staticmethod
    def _name(sample, index: int) -> str:
        """The sample's ``img_id``; else its position in the dataset, which is unique across
        ranks: the default sampler deals sample ``rank + k·world_size`` to rank ``rank``."""
        name = sample.metainfo.get('img_id')
        if name is not None:
            return str(name)
        from mmengine.dist import get_dist_info
        rank, world_size = get_dist_info()
        return f'{rank + index * world_size:06d}'

    def _write(self, image: np.ndarray, path: str, sample) -> None:
        inputs = {osp.realpath(p) for k, p in sample.metainfo.items() if k.endswith('_path') and p}
        if osp.realpath(path) in inputs:
            raise FileExistsError(f'Refusing to overwrite the input image {path}: choose another '
                                  '--out-dir.')
        write_rgb(image, path)

    def _save(self, runner, data_batch, outputs, save_restored: bool) -> None:
        degraded = ((data_batch or {}).get('inputs') or {}).get('degraded')
        for i, sample in enumerate(outputs or []):
            if self.max_images is not None and self.count >= self.max_images:
                return
            name = self._name(sample, self.count)
            self.count += 1
            restored = to_hwc_uint8(sample.pred_img, self.quantize)
            if save_restored:
                self._write(restored, osp.join(self._folder, f'{name}.png'), sample)
            if degraded is None:
                continue
            height, width = restored.shape[:2]
            source = to_hwc_uint8(degraded[i])[:height, :width]
            truth = [to_hwc_uint8(sample.gt)] if 'gt' in sample else []
            if self.grid:
                self._picture(runner, 'grids', name, self._strip([source, restored, *truth]),
                              sample)
            if 'trajectory' in sample:
                frames = [to_hwc_uint8(x, self.quantize) for x in sample.trajectory]
                self._picture(runner, 'trajectories', name,
                              self._strip([source, *frames, *truth]), sample)

    def _strip(self, panels: Sequence[np.ndarray]) -> np.ndarray:
        if self.scale != 1.0:
            import mmcv
            panels = [mmcv.imrescale(p, self.scale, interpolation='area') for p in panels]
        return side_by_side(panels)

    def _picture(self, runner, kind: str, name: str, image: np.ndarray, sample) -> None:
        self._write(image, osp.join(self._folder, kind, f'{name}.png'), sample)
        if self.phase == 'val':
            runner.visualizer.add_image(f'val/{kind}/{name}', image, step=runner.iter)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish(runner)
        if self.phase == 'test' and self.count:
            runner.logger.info(f'Saved {self.count} restored image(s) to '
                               f'{osp.abspath(self._folder)}' +
                               (f' and grids to {osp.join(osp.abspath(self._folder), "grids")}'
                                if self.grid else ''))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish(runner)
