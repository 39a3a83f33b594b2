"""Turns collated uint8 images into the model's [-1, 1] batches, padding at test time."""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from rf.registry import MODELS


def to_model_range(image: torch.Tensor) -> torch.Tensor:
    """uint8 (or float 0..255) -> float in [-1, 1]."""
    return image.float() / 255 * 2 - 1


def pad_to(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pad (…, H, W) at the bottom and right: reflect where the image is big enough, else replicate."""
    pad_h, pad_w = height - image.shape[-2], width - image.shape[-1]
    if not (pad_h or pad_w):
        return image
    mode = 'reflect' if pad_h < image.shape[-2] and pad_w < image.shape[-1] else 'replicate'
    return F.pad(image[None], (0, pad_w, 0, pad_h), mode=mode)[0]


@MODELS.register_module()
class RestorationDataPreprocessor(BaseDataPreprocessor):
    """Batches a restoration dataset's samples for :class:`rf.models.Resfusion`.

    Expects the collated form ``{'inputs': {'degraded': [uint8 (C, H, W)], 'mask': [...]},
    'data_samples': [BaseDataElement with gt uint8 (C, H, W)]}`` and returns
    ``{'inputs': {'degraded', 'gt', 'mask'}, 'data_samples'}`` with images in [-1, 1] stacked on
    the model's device. Masks keep their raw values (the fuser encodes them).

    At test time (``training=False``) images are padded to a common size that is a multiple of
    ``pad_size_divisor`` and each sample records its ``ori_shape`` so outputs can be cropped back.

    A batch without degraded images (generation: the samples carry only ``gt``, real images)
    gives ``degraded=None`` and ``gt``; its samples get no ``ori_shape``, since the generated
    image has the task's own shape, not the real image's.
    """

    def __init__(self, pad_size_divisor: int = 8) -> None:
        super().__init__()
        self.pad_size_divisor = int(pad_size_divisor)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data.get('inputs') or {}
        if not isinstance(inputs, dict):
            raise TypeError("RestorationDataPreprocessor expects data['inputs'] to be a dict with "
                            f"'degraded' (and optionally 'mask'), got {type(inputs).__name__}.")
        samples = list(data.get('data_samples') or [])
        degraded = inputs.get('degraded')
        masks = inputs.get('mask')
        gts = [s.gt for s in samples if 'gt' in s] if samples else []
        reference = degraded if degraded is not None else gts
        if reference is None or len(reference) == 0:
            raise ValueError('RestorationDataPreprocessor: the batch has neither degraded images '
                             'nor ground truths.')
        if degraded is not None:
            for i, sample in enumerate(samples):
                sample.set_metainfo(dict(ori_shape=tuple(reference[i].shape[-2:])))
        height, width = self._batch_size(reference, training)
        out = dict(
            degraded=self._stack(degraded, height, width, to_model_range),
            mask=self._stack(masks, height, width, lambda m: m.float()),
            gt=self._stack(gts, height, width, to_model_range) if len(gts) == len(reference) else None,
        )
        return dict(inputs=out, data_samples=samples)

    def _batch_size(self, images: Sequence[torch.Tensor], training: bool):
        heights = {int(img.shape[-2]) for img in images}
        widths = {int(img.shape[-1]) for img in images}
        if training:
            if len(heights) > 1 or len(widths) > 1:
                raise ValueError(f'Training batches need images of one size, got heights {heights} '
                                 f'and widths {widths}: crop them in the pipeline.')
            return heights.pop(), widths.pop()
        d = self.pad_size_divisor
        return math.ceil(max(heights) / d) * d, math.ceil(max(widths) / d) * d

    @staticmethod
    def _stack(images: Optional[List[torch.Tensor]], height: int, width: int,
               convert) -> Optional[torch.Tensor]:
        if images is None or len(images) == 0:
            return None
        if isinstance(images, torch.Tensor) and images.dim() == 4:
            images = list(images)
        return torch.stack([pad_to(convert(img), height, width) for img in images])
