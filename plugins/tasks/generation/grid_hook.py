"""One picture of many generated samples (a grid), written at test time and at each validation.

Under distributed testing every rank holds its own shard of samples: they are gathered to rank 0,
put back in dataset order (the default sampler deals sample i to rank i mod world size), and only
rank 0 writes the grid, atomically.
"""
import os.path as osp
from itertools import chain, zip_longest
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from rf.engine.atomic_files import atomic_write_bytes

PHASES = ('val', 'test')


def sample_grid(images: Sequence[torch.Tensor], nrow: int, gap: int = 2) -> np.ndarray:
    """Float (C, H, W) images in [0, 1] -> one (H', W', 3) uint8 grid, ``nrow`` images per row,
    white gaps between them."""
    from torchvision.utils import make_grid
    batch = torch.stack([image.detach().float().cpu().clamp(0, 1) for image in images])
    if batch.shape[1] == 1:
        batch = batch.expand(-1, 3, -1, -1)
    grid = make_grid(batch, nrow=nrow, padding=gap, pad_value=1.0)
    return (grid * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def gather_in_dataset_order(images: List[torch.Tensor]) -> Optional[List[torch.Tensor]]:
    """Every rank's images on rank 0, interleaved back into dataset order; None on other ranks."""
    from mmengine.dist import all_gather_object, get_dist_info
    rank, world_size = get_dist_info()
    if world_size == 1:
        return images
    shards = all_gather_object(images)
    if rank != 0:
        return None
    return [image for image in chain.from_iterable(zip_longest(*shards)) if image is not None]


def write_png(image: np.ndarray, path: str) -> None:
    """An (H, W, 3) uint8 RGB image as a PNG, written atomically (a reader never sees half)."""
    import cv2
    ok, encoded = cv2.imencode('.png', np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise OSError(f'Cannot encode the grid for {path}.')
    atomic_write_bytes(path, encoded.tobytes())


class SampleGridHook(Hook):
    """Save the first ``max_images`` generated images (``pred_img``) as one grid PNG.

    Args:
        out_dir: where the test grid goes (``tools/test.py --out-dir`` sets it); default the
            work dir. Validation grids go to ``WORK_DIR/val_pictures/<epoch_N|iter_N>/`` and to
            the visualizer (TensorBoard) as ``val/samples``.
        max_images: how many samples the grid shows (the first, in dataset order, whatever the
            number of processes).
        nrow: images per row.
        scale: resize the grid by this factor (e.g. 4 for 32x32 samples; nearest when enlarging).
        phases: ``'val'`` and/or ``'test'``.
        filename: the grid's file name.
    """

    priority = 'LOW'

    def __init__(self, out_dir: Optional[str] = None, max_images: int = 64, nrow: int = 8,
                 scale: float = 1.0, phases: Sequence[str] = PHASES,
                 filename: str = 'samples_grid.png') -> None:
        unknown = set(phases) - set(PHASES)
        if unknown:
            raise ValueError(f'SampleGridHook: phases must be among {PHASES}, got '
                             f'{sorted(unknown)}.')
        if max_images < 1 or nrow < 1 or scale <= 0:
            raise ValueError('SampleGridHook: max_images and nrow must be >= 1 and scale > 0.')
        self.out_dir = out_dir
        self.max_images = int(max_images)
        self.nrow = int(nrow)
        self.scale = float(scale)
        self.phases = tuple(phases)
        self.filename = filename
        self._images: List[torch.Tensor] = []
        self.last_path: Optional[str] = None

    def _collect(self, outputs) -> None:
        for sample in outputs or []:
            if len(self._images) >= self.max_images:
                return
            self._images.append(sample.pred_img.detach().cpu())

    def _gathered(self) -> Optional[List[torch.Tensor]]:
        """The first ``max_images`` of all ranks on rank 0 (None elsewhere)."""
        images = gather_in_dataset_order(self._images)
        return None if images is None else images[:self.max_images]

    def _grid(self, images: List[torch.Tensor]) -> np.ndarray:
        grid = sample_grid(images, self.nrow)
        if self.scale != 1.0:
            import mmcv
            grid = mmcv.imrescale(grid, self.scale,
                                  interpolation='nearest' if self.scale > 1 else 'area')
        return grid

    def before_test_epoch(self, runner) -> None:
        self._images = []

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if 'test' in self.phases:
            self._collect(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        if 'test' not in self.phases:
            return
        images = self._gathered()  # every rank takes part, even one without samples
        if not images:
            return
        path = osp.join(self.out_dir or runner.work_dir, self.filename)
        write_png(self._grid(images), path)
        self.last_path = path
        runner.logger.info(f'Saved a grid of {len(images)} generated samples to '
                           f'{osp.abspath(path)}')

    def before_val_epoch(self, runner) -> None:
        self._images = []

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if 'val' in self.phases:
            self._collect(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if 'val' not in self.phases:
            return
        images = self._gathered()
        if not images:
            return
        by_epoch = isinstance(getattr(runner, '_train_loop', None), EpochBasedTrainLoop)
        step = f'epoch_{runner.epoch}' if by_epoch else f'iter_{runner.iter}'
        grid = self._grid(images)
        path = osp.join(runner.work_dir, 'val_pictures', step, self.filename)
        write_png(grid, path)
        self.last_path = path
        runner.visualizer.add_image('val/samples', grid, step=runner.iter)
