"""Write restored images, and side-by-side grids (input | restored | ground truth), at test time."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook

from rf.datasets.image_io import write_rgb
from rf.registry import HOOKS


def to_hwc_uint8(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) uint8, or float in [0, 1] -> (H, W, 3) uint8."""
    if image.is_floating_point():
        image = (image.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
    array = image.cpu().numpy().transpose(1, 2, 0)
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
    """Save each test sample's restoration as ``out_dir/<img_id>.png`` and, with ``grid=True``,
    ``out_dir/grids/<img_id>.png`` showing input | restored | ground truth.

    A file that would replace one of the sample's own inputs is refused.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, grid: bool = True) -> None:
        self.out_dir = out_dir
        self.grid = grid
        self.count = 0

    def _name(self, sample, index: int) -> str:
        name = sample.metainfo.get('img_id')
        return str(name) if name is not None else f'{index:06d}'

    def _write(self, image: np.ndarray, path: str, sample) -> None:
        inputs = {osp.realpath(p) for k, p in sample.metainfo.items() if k.endswith('_path') and p}
        if osp.realpath(path) in inputs:
            raise FileExistsError(f'Refusing to overwrite the input image {path}: choose another '
                                  '--out-dir.')
        write_rgb(image, path)

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        degraded = ((data_batch or {}).get('inputs') or {}).get('degraded')
        for i, sample in enumerate(outputs or []):
            name = self._name(sample, self.count)
            self.count += 1
            restored = to_hwc_uint8(sample.pred_img)
            self._write(restored, osp.join(self.out_dir, f'{name}.png'), sample)
            if not self.grid or degraded is None:
                continue
            panels = [to_hwc_uint8(degraded[i]), restored]
            if 'gt' in sample:
                panels.append(to_hwc_uint8(sample.gt))
            self._write(side_by_side(panels), osp.join(self.out_dir, 'grids', f'{name}.png'),
                        sample)

    def after_test(self, runner) -> None:
        if self.count:
            runner.logger.info(f'Saved {self.count} restored image(s) to '
                               f'{osp.abspath(self.out_dir)}' +
                               (f' and grids to {osp.join(osp.abspath(self.out_dir), "grids")}'
                                if self.grid else ''))
