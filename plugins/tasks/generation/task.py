"""First-party plugin: the ``generation`` task (unconditional image generation, docs/design.md §1.5).

x̂0 = 0, so ``R = -x0`` and the sampler starts from ``√(1-ᾱ_T')·ε``; the network gets no condition
(the fused input is ``x_t`` alone: a 3-channel backbone with the ``concat`` fuser).

A generation batch carries only real images as ``gt`` (no ``'degraded'`` input). In training x̂0
is zeros of the real images' shape; at sampling time zeros of the configured ``image_shape``
(one sample per data sample; the real images are what FID compares the samples with).

Also here: :class:`PackGenerationInputs`, the pipeline's last step for image datasets used for
generation.
"""
from typing import Dict, Optional, Sequence

import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from rf.datasets.transforms.formatting import image_to_tensor
from rf.tasks import BaseTask, Condition


class GenerationTask(BaseTask):
    """Generation: start from x̂0 = 0 with no condition.

    Args:
        image_shape: ``(C, H, W)`` of the generated images; ``None`` samples at the real images'
            shape.
    """

    def __init__(self, image_shape: Optional[Sequence[int]] = (3, 32, 32)) -> None:
        if image_shape is not None:
            image_shape = tuple(int(s) for s in image_shape)
            if len(image_shape) != 3 or min(image_shape) < 1:
                raise ValueError(f'generation task: image_shape must be (C, H, W), got '
                                 f'{image_shape!r}.')
        self.image_shape = image_shape

    @staticmethod
    def _real_images(inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        gt = inputs.get('gt')
        if gt is None:
            raise KeyError("The generation task needs real images: the batch has no 'gt' "
                           '(pack the dataset\'s images with PackGenerationInputs).')
        return gt

    def degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """x̂0 = 0 of the real images' shape (training: the forward process of ``gt``)."""
        return torch.zeros_like(self._real_images(inputs))

    def sampling_degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """x̂0 = 0 of ``image_shape``, one per sample of the batch."""
        real = self._real_images(inputs)
        if self.image_shape is None:
            return torch.zeros_like(real)
        return real.new_zeros((real.shape[0], *self.image_shape))

    def condition(self, inputs: Dict[str, torch.Tensor]) -> Condition:
        return None, None

    def __repr__(self) -> str:
        return f'{type(self).__name__}(image_shape={self.image_shape})'


class PackGenerationInputs(BaseTransform):
    """``{'inputs': {}, 'data_samples': BaseDataElement(gt=real image)}`` for the generation task.

    The data sample is named ``sample_<index>`` (its ``img_id``, used for saved samples) and
    keeps ``sample_idx`` (the dataset index, which gives every sample its own noise when the
    sampler is seeded), the real image's ``img_id`` as ``real_img_id`` and the ``meta_keys``
    present (e.g. ``label``).
    """

    def __init__(self, meta_keys: Sequence[str] = ('label',)) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if results.get('gt') is None:
            raise KeyError("PackGenerationInputs: the sample has no 'gt' image.")
        index = results.get('sample_idx')
        meta = {key: results[key] for key in self.meta_keys if key in results}
        if index is not None:
            meta.update(sample_idx=int(index), img_id=f'sample_{int(index):06d}')
        if 'img_id' in results:
            meta['real_img_id'] = results['img_id']
        sample = BaseDataElement(metainfo=meta)
        sample.gt = image_to_tensor(results['gt'])
        return {'inputs': {}, 'data_samples': sample}
