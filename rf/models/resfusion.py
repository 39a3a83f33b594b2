"""The Resfusion model: schedule + backbone + fuser + task + target + loss, as an MMEngine BaseModel."""
import math
import weakref
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from rf.diffusion import ResfusionSampler, TruncatedSchedule, q_sample, training_target
from rf.diffusion.process import check_target
from rf.models.data_preprocessor import pad_to
from rf.models.fused_input import FusedInput, check_pairing
from rf.models.sampling_precision import SamplingPrecision
from rf.registry import FUSERS, MODELS, TASKS
from rf.tiling import check_tiling, tiled_network

ConfigOrModule = Union[dict, torch.nn.Module]

# backbone -> its torch.compile'd wrapper. Kept outside the model so that state dicts, deep copies
# (MMEngine's EMA) and pickles never see the wrapper; a copy gets its own. The wrapper refers to
# its backbone, so entries live as long as the process (one per compiled backbone).
_COMPILED = weakref.WeakKeyDictionary()


def compiled_backbone(backbone: torch.nn.Module, options: dict, device: torch.device):
    """``torch.compile(backbone, **options)``, built once per backbone. On CPU, inductor's layout
    optimisation is turned off: it makes these convolutions slower (DESIGN §5)."""
    if backbone not in _COMPILED:
        if device.type == 'cpu':
            import torch._inductor.config as inductor_config
            inductor_config.layout_optimization = False
        _COMPILED[backbone] = torch.compile(backbone, **options)
    return _COMPILED[backbone]


def _build(registry, cfg, what: str):
    if cfg is None:
        raise ValueError(f'Resfusion needs a {what} config (e.g. {what}=dict(type=...)).')
    return registry.build(cfg) if isinstance(cfg, dict) else cfg


@MODELS.register_module()
class Resfusion(BaseModel):
    """Resfusion (NeurIPS 2024) for any task, backbone and fuser.

    Args:
        backbone: the network, ``backbone(fused_input, t - 1)`` with the 0-based step index.
        fuser: builds the network input from ``x_t``, the condition and the mask, and may
            add context tokens for a backbone with cross-attention (``context_dim``; the
            protocol and the pairing check: :mod:`rf.models.fused_input`).
        task: where x̂0 and the condition come from (``TASKS``, e.g. ``dict(type='restoration')``).
        schedule: ``dict(type='linear', T=12, offset_threshold=0.01, **schedule_kwargs)``.
        target: what the backbone predicts: ``'resnoise'`` (default), ``'x0'`` or ``'residual'``.
        loss: the training loss between prediction and target (``dict(type='MSELoss')``).
        sampler: options of :class:`ResfusionSampler` (``variance``, ``clip_x0``, ``steps``:
            sample with fewer steps than trained, e.g. ``steps=20``) plus ``seed``
            (a fixed seed makes every test batch reproducible), ``deterministic`` and
            ``batch_invariant`` (default True: ``predict`` restores each image on its own, at
            its own padded size and with its own noise, so a restored image does not depend on
            the batch it came in; False runs the batch through the network at once, which is
            faster on a GPU but lets padding and kernel choice vary with the batch),
            ``autocast`` (None, ``'fp16'`` or ``'bf16'``) and ``channels_last`` for the
            network while sampling (GPU options, see :class:`SamplingPrecision`), ``tile``
            and ``tile_overlap`` (see :meth:`set_tiling`; default: no tiles).
        data_preprocessor: defaults to :class:`RestorationDataPreprocessor`.
        noise_skip: the backbone predicts only what the resnoise adds to
            ``(x_t - √ᾱ_t·x̂0) / √(1-ᾱ_t)``, the resnoise it would be if x0 were x̂0 (added back
            here, so the model still outputs the resnoise and trains on the same loss). That
            part is exactly ``(c_t + (2√ᾱ_t - 1)/√(1-ᾱ_t))·R``: zero when the degraded image is
            already clean, so a network that has learnt little restores x̂0 instead of noise
            (a skip connection in the sense of EDM's c_skip; the method, target and schedule
            are unchanged). Only with ``target='resnoise'``.
        compile: ``True`` or ``torch.compile`` options (e.g. ``dict(mode='max-autotune')``) to
            run the backbone compiled, in training and sampling. The first call of each input
            shape compiles (30-70 s on a 2-core CPU); worth it for long runs and fixed sizes.

    Modes: ``loss`` -> ``{'loss': ...}``; ``predict`` -> data samples with ``pred_img`` (float
    (C, H, W) in [0, 1] at the sample's original size); ``tensor`` -> the sampled batch in [-1, 1].
    """

    def __init__(self, backbone: ConfigOrModule, fuser: ConfigOrModule, task: ConfigOrModule,
                 schedule: Optional[dict] = None, target: str = 'resnoise',
                 loss: Optional[ConfigOrModule] = None, sampler: Optional[dict] = None,
                 compile: Union[bool, dict] = False, noise_skip: bool = False,
                 data_preprocessor: Optional[ConfigOrModule] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='RestorationDataPreprocessor')
        super().__init__(data_preprocessor=_build(MODELS, data_preprocessor, 'data_preprocessor'),
                         init_cfg=init_cfg)
        schedule = dict(schedule or dict(type='linear', T=12))
        self.schedule = TruncatedSchedule(schedule.pop('type', 'linear'), **schedule)
        self.target = check_target(target)
        self.backbone = _build(MODELS, backbone, 'backbone')
        self.fuser = _build(FUSERS, fuser, 'fuser')
        check_pairing(self.fuser, self.backbone)
        self.task = _build(TASKS, task, 'task')
        self.loss_fn = _build(MODELS, loss or dict(type='MSELoss'), 'loss')
        sampler = dict(sampler or {})
        self.sample_seed = sampler.pop('seed', None)
        self.deterministic = bool(sampler.pop('deterministic', False))
        self.batch_invariant = bool(sampler.pop('batch_invariant', True))
        self.precision = SamplingPrecision(sampler.pop('autocast', None),
                                           sampler.pop('channels_last', False))
        self.precision.prepare(self.backbone)
        self.trajectories_wanted = 0
        self.tiling = None
        self.set_tiling(sampler.pop('tile', None), sampler.pop('tile_overlap', 32))
        if compile and not isinstance(compile, (bool, dict)):
            raise TypeError(f'compile must be True/False or a dict of torch.compile options, '
                            f'got {compile!r}.')
        self.compile_options = (dict(compile) if isinstance(compile, dict) else {}) if compile \
            else None
        self.sampler = ResfusionSampler(self.schedule, target=self.target, **sampler)
        if noise_skip and self.target != 'resnoise':
            raise ValueError(f"noise_skip=True is for target='resnoise' (the skip is a "
                             f"resnoise), not target={self.target!r}.")
        self.noise_skip = bool(noise_skip)

    def network(self, x_t: torch.Tensor, t: torch.Tensor, inputs: Dict[str, torch.Tensor]):
        """The backbone on the fused input at 1-based steps ``t``: ``backbone(input, t - 1)``,
        plus ``context=`` when the fuser returns a :class:`FusedInput` with context tokens
        (the protocol: :mod:`rf.models.fused_input`)."""
        condition, mask = self.task.condition(inputs)
        backbone = self.backbone
        if self.compile_options is not None:
            backbone = compiled_backbone(backbone, self.compile_options, x_t.device)
        fused = self.fuser(x_t, condition, mask)
        if isinstance(fused, FusedInput):
            if fused.context is None:
                output = backbone(fused.input, t - 1)
            else:
                output = backbone(fused.input, t - 1, context=fused.context)
        else:
            output = backbone(fused, t - 1)
        if self.noise_skip:
            output = output + self._clean_input_resnoise(x_t, t, inputs)
        return output

    def _clean_input_resnoise(self, x_t: torch.Tensor, t: torch.Tensor,
                              inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """``(x_t - √ᾱ_t·x̂0) / √(1-ᾱ_t)``: the resnoise if x0 were x̂0 (``noise_skip``)."""
        degraded = self.sampling_degraded(inputs)
        if degraded.shape != x_t.shape:  # generation trained on real images of another shape
            degraded = self.task.degraded(inputs)
        sqrt_ab = self.schedule.gather('sqrt_alphas_cumprod', t, x_t)
        sqrt_1m_ab = self.schedule.gather('sqrt_one_minus_alphas_cumprod', t, x_t)
        return (x_t - sqrt_ab * degraded) / sqrt_1m_ab

    def forward(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[BaseDataElement]] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.restore(inputs)
        raise ValueError(f"Invalid mode {mode!r}: use 'loss', 'predict' or 'tensor'.")

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Optional[List[BaseDataElement]] = None) -> Dict[str, torch.Tensor]:
        """MSE to the target at ``t ~ Uniform{1..T'}``."""
        x0 = inputs.get('gt')
        if x0 is None:
            raise KeyError("Training needs the ground truth: the batch has no 'gt' (every data "
                           "sample must carry one).")
        degraded = self.task.degraded(inputs)
        t = torch.randint(1, self.schedule.T_acc + 1, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        x_t = q_sample(self.schedule, x0, degraded, t, noise)
        target = training_target(self.schedule, self.target, x0, degraded, t, noise)
        return {'loss': self.loss_fn(self.network(x_t, t, inputs), target)}

    def set_tiling(self, tile: Optional[int], overlap: int = 32) -> None:
        """Run the network on overlapping ``tile`` x ``tile`` tiles (blended at every step) when
        restoring, for images too large for memory; ``None`` restores in one pass."""
        if tile is not None:
            check_tiling(tile, overlap)
        self.tiling = None if tile is None else (int(tile), int(overlap))

    def sampling_degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """x̂0 to sample from: the task's ``sampling_degraded(inputs)`` where it has one (the
        generation task: zeros of its configured image shape), else ``task.degraded(inputs)``."""
        of_task = getattr(self.task, 'sampling_degraded', None)
        return of_task(inputs) if callable(of_task) else self.task.degraded(inputs)

    def _seed(self, offset: Optional[int]) -> Optional[int]:
        """The sampling seed moved by ``offset`` (a sample's dataset index, see :meth:`predict`)."""
        if self.sample_seed is None or offset is None:
            return self.sample_seed
        return int(self.sample_seed) + int(offset)

    @torch.no_grad()
    def restore(self, inputs: Dict[str, torch.Tensor], return_trajectory: bool = False,
                seed_offset: Optional[int] = None):
        """Run the sampler on the batch; returns x0 in [-1, 1] at the batch's (padded) size
        (and, with ``return_trajectory``, the list ``[x_T', ..., x_0]``). With a sampling seed,
        ``seed_offset`` seeds this batch with ``seed + seed_offset``."""
        clear_caches = getattr(self.backbone, 'clear_weight_caches', None)
        if callable(clear_caches):  # weights may have changed unseen since the last call
            clear_caches()
        network = self.precision.wrap(self.network, self.backbone)
        if self.tiling is not None:
            network = tiled_network(network, *self.tiling)
        return self.sampler.sample(lambda x_t, t: network(x_t, t, inputs),
                                   self.sampling_degraded(inputs),
                                   deterministic=self.deterministic,
                                   seed=self._seed(seed_offset),
                                   return_trajectory=return_trajectory)

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[BaseDataElement]] = None) -> List[BaseDataElement]:
        """Restored (or generated) images as ``pred_img`` in [0, 1]; the first
        ``trajectories_wanted`` samples (a runtime setting, e.g. of
        :class:`SaveRestoredImagesHook`) also get ``trajectory``, the reverse process
        ``[x_T', ..., x_0]`` in [0, 1].

        A data sample whose metainfo has ``sample_idx`` (its index in the dataset, as generation
        datasets give it) is sampled with ``seed + sample_idx``: with x̂0 = 0 one seed for all
        would give every sample the same image. Others use the seed itself.
        """
        reference = self.sampling_degraded(inputs)
        batch = reference.shape[0]
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(batch)]
        per_image = (self.batch_invariant and batch > 1) or self.trajectories_wanted > 0
        restored = None
        if not per_image:
            restored = list(self.restore(inputs, seed_offset=self._sample_index(data_samples[0])))
        for i, sample in enumerate(data_samples):
            height, width = sample.metainfo.get('ori_shape') or tuple(reference.shape[-2:])
            if restored is None:
                wants_trajectory = self.trajectories_wanted > 0
                image, trajectory = self._restore_one(inputs, i, sample.metainfo.get('ori_shape'),
                                                      wants_trajectory, self._sample_index(sample))
                if wants_trajectory:
                    self.trajectories_wanted -= 1
                    sample.trajectory = [((x + 1) / 2)[:, :height, :width].clamp(0, 1)
                                         for x in trajectory]
            else:
                image = restored[i]
            sample.pred_img = ((image + 1) / 2)[:, :height, :width].clamp(0, 1)
        return data_samples

    @staticmethod
    def _sample_index(sample) -> Optional[int]:
        index = sample.metainfo.get('sample_idx') if sample is not None else None
        return None if index is None else int(index)

    def _restore_one(self, inputs: Dict[str, torch.Tensor], index: int,
                     ori_shape: Optional[tuple], return_trajectory: bool = False,
                     seed_offset: Optional[int] = None):
        """Sample ``index`` of the batch restored alone, as a batch of one would be; returns
        ``(image, trajectory or None)``, each (C, H, W) in [-1, 1]."""
        reference = self.sampling_degraded(inputs)
        height, width = ori_shape or reference.shape[-2:]
        divisor = int(getattr(self.data_preprocessor, 'pad_size_divisor', 1) or 1)
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
            return self.restore(single, seed_offset=seed_offset)[0], None
        image, trajectory = self.restore(single, return_trajectory=True, seed_offset=seed_offset)
        return image[0], [x[0] for x in trajectory]
