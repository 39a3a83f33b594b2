"""The sampling pipeline: a model's restoration end to end, apart from the model.

The model (:class:`~rf.models.resfusion.Resfusion`) holds the network and its training loss; the
pipeline owns everything that happens around the sampler when restoring: per-image padding
(so that an image does not depend on the batch it came in), tiling, the network's precision and
memory layout, seeds, and the reverse trajectory. Its options are constructor arguments (the
model config's ``sampler`` dict); :meth:`RestorationPipeline.replace` gives a pipeline with some
changed, e.g. tiles for one large photo, without touching the model.
"""
import math
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.structures import BaseDataElement

from rf.diffusion import ResfusionSampler
from rf.models.data_preprocessor import pad_to
from rf.models.sampling_precision import SamplingPrecision
from rf.tiling import check_tiling, tiled_steps

#: A data sample's metainfo key asking for its reverse trajectory ``[x_T', ..., x_0]``.
TRAJECTORY_KEY = 'return_trajectory'

#: The options :class:`RestorationPipeline` takes from a model config's ``sampler`` dict.
PIPELINE_OPTIONS = ('seed', 'deterministic', 'batch_invariant', 'autocast', 'channels_last',
                    'tile', 'tile_overlap')


class RestorationPipeline:
    """Restores batches with ``sampler`` and a model's step function.

    Args:
        sampler: the reverse process (:class:`ResfusionSampler`).
        seed: a fixed sampling seed makes every batch reproducible; a sample whose metainfo has
            ``sample_idx`` is sampled with ``seed + sample_idx``.
        deterministic: σ = 0 at every reverse step.
        batch_invariant: restore each image on its own, at its own padded size and with its own
            noise, so that a restored image does not depend on its batch (default); False runs
            the batch through the network at once (faster on a GPU).
        autocast, channels_last: the network's precision and layout while sampling
            (:class:`SamplingPrecision`; GPU options).
        tile, tile_overlap: run the network on overlapping tiles blended at every step, for
            images too large for memory (None: one pass).
    """

    def __init__(self, sampler: ResfusionSampler, seed: Optional[int] = None,
                 deterministic: bool = False, batch_invariant: bool = True,
                 autocast: Optional[str] = None, channels_last: bool = False,
                 tile: Optional[int] = None, tile_overlap: int = 32) -> None:
        if tile is not None:
            check_tiling(tile, tile_overlap)
        self.sampler = sampler
        self.seed = seed
        self.deterministic = bool(deterministic)
        self.batch_invariant = bool(batch_invariant)
        self.precision = SamplingPrecision(autocast, channels_last)
        self.tile = None if tile is None else int(tile)
        self.tile_overlap = int(tile_overlap)

    def options(self) -> dict:
        """The constructor's options (all but the sampler)."""
        return dict(seed=self.seed, deterministic=self.deterministic,
                    batch_invariant=self.batch_invariant, autocast=self.precision.autocast,
                    channels_last=self.precision.channels_last, tile=self.tile,
                    tile_overlap=self.tile_overlap)

    def replace(self, **changes) -> 'RestorationPipeline':
        """A pipeline with the same sampler and these options changed."""
        unknown = sorted(set(changes) - set(PIPELINE_OPTIONS))
        if unknown:
            raise TypeError(f'RestorationPipeline has no option {unknown}; options: '
                            f'{", ".join(PIPELINE_OPTIONS)}.')
        return type(self)(self.sampler, **{**self.options(), **changes})

    def seed_for(self, offset: Optional[int]) -> Optional[int]:
        """The sampling seed moved by ``offset`` (a sample's dataset index)."""
        if self.seed is None or offset is None:
            return self.seed
        return int(self.seed) + int(offset)

    def step_function(self, model, inputs: Dict[str, torch.Tensor]):
        """``(x_t, t) -> prediction`` for ``inputs`` at the chosen precision and layout: the
        model encodes the condition once here, the sampler calls the result at every step."""
        inputs = self.precision.layout_inputs(inputs)
        reference = next((v for v in inputs.values() if torch.is_tensor(v)), None)
        device_type = reference.device.type if reference is not None else 'cpu'
        with self.precision.context(device_type):
            step = model.step_function(inputs)

        def run(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            with self.precision.context(x_t.device.type):
                prediction = step(self.precision.layout(x_t), t)
            return self.precision.finish(prediction)
        return run

    @torch.no_grad()
    def restore(self, model, inputs: Dict[str, torch.Tensor], return_trajectory: bool = False,
                seed_offset: Optional[int] = None):
        """Run the sampler on the batch; returns x0 in [-1, 1] at the batch's (padded) size
        (and, with ``return_trajectory``, the list ``[x_T', ..., x_0]``)."""
        model.prepare_sampling()
        self.precision.prepare(model.backbone)
        if self.tile is None:
            predict = self.step_function(model, inputs)
        else:
            predict = tiled_steps(lambda part: self.step_function(model, part), inputs,
                                  self.tile, self.tile_overlap)
        return self.sampler.sample(predict, model.task.sampling_degraded(inputs),
                                   deterministic=self.deterministic,
                                   seed=self.seed_for(seed_offset),
                                   return_trajectory=return_trajectory)

    @torch.no_grad()
    def predict(self, model, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[BaseDataElement]] = None) -> List[BaseDataElement]:
        """Restored (or generated) images as ``pred_img`` in [0, 1] at each sample's original
        size; a sample whose metainfo sets :data:`TRAJECTORY_KEY` also gets ``trajectory``, the
        reverse process ``[x_T', ..., x_0]`` in [0, 1]."""
        reference = model.task.sampling_degraded(inputs)
        batch = reference.shape[0]
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(batch)]
        wants = [bool(sample.metainfo.get(TRAJECTORY_KEY)) for sample in data_samples]
        per_image = (self.batch_invariant and batch > 1) or any(wants)
        restored = None
        if not per_image:
            restored = list(self.restore(model, inputs,
                                         seed_offset=_sample_index(data_samples[0])))
        for i, sample in enumerate(data_samples):
            height, width = sample.metainfo.get('ori_shape') or tuple(reference.shape[-2:])
            if restored is None:
                image, trajectory = self._restore_one(model, inputs, i, reference,
                                                      sample.metainfo.get('ori_shape'),
                                                      wants[i], _sample_index(sample))
                if wants[i]:
                    sample.trajectory = [((x + 1) / 2)[:, :height, :width].clamp(0, 1)
                                         for x in trajectory]
            else:
                image = restored[i]
            sample.pred_img = ((image + 1) / 2)[:, :height, :width].clamp(0, 1)
        return data_samples

    def _restore_one(self, model, inputs: Dict[str, torch.Tensor], index: int,
                     reference: torch.Tensor, ori_shape: Optional[Tuple[int, int]],
                     return_trajectory: bool, seed_offset: Optional[int]):
        """Sample ``index`` of the batch restored alone, as a batch of one would be; returns
        ``(image, trajectory or None)``, each (C, H, W) in [-1, 1]."""
        height, width = ori_shape or reference.shape[-2:]
        divisor = int(getattr(model.data_preprocessor, 'pad_size_divisor', 1) or 1)
        padded_h, padded_w = (math.ceil(height / divisor) * divisor,
                              math.ceil(width / divisor) * divisor)

        def one(value):
            if not (torch.is_tensor(value) and value.dim() == 4):
                return value
            if value.shape[-2:] != reference.shape[-2:]:  # not on x̂0's grid (generation's gt)
                return value[index:index + 1]
            return pad_to(value[index, ..., :height, :width], padded_h, padded_w)[None]

        single = {key: one(value) for key, value in inputs.items()}
        if not return_trajectory:
            return self.restore(model, single, seed_offset=seed_offset)[0], None
        image, trajectory = self.restore(model, single, return_trajectory=True,
                                         seed_offset=seed_offset)
        return image[0], [x[0] for x in trajectory]


def _sample_index(sample) -> Optional[int]:
    index = sample.metainfo.get('sample_idx') if sample is not None else None
    return None if index is None else int(index)
