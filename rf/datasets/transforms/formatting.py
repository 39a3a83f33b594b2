"""Pack a restoration sample into the form :class:`RestorationDataPreprocessor` expects."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from rf.registry import TRANSFORMS


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, C) or (H, W) uint8 -> (C, H, W) uint8 tensor."""
    if image.ndim == 2:
        image = image[..., None]
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackRestorationInputs(BaseTransform):
    """``{'inputs': {'degraded', 'mask'?}, 'data_samples': BaseDataElement(gt=..., metainfo)}``.

    The ground truth goes into the data sample (metrics read it from there); the metainfo keeps
    the file paths, the sample's name (``img_id``) and its shape.
    """

    def __init__(self, meta_keys: Sequence[str] = ('img_id', 'degraded_path', 'gt_path',
                                                   'mask_path', 'ori_shape')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if results.get('degraded') is None:
            raise KeyError("PackRestorationInputs: the sample has no 'degraded' image.")
        inputs = {'degraded': image_to_tensor(results['degraded'])}
        if results.get('mask') is not None:
            inputs['mask'] = image_to_tensor(results['mask'])
        sample = BaseDataElement(metainfo={k: results[k] for k in self.meta_keys if k in results})
        if results.get('gt') is not None:
            sample.gt = image_to_tensor(results['gt'])
        return {'inputs': inputs, 'data_samples': sample}
