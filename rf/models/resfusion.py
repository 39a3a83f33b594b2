"""The Resfusion model: schedule + backbone + fuser + task + target + loss, as an MMEngine BaseModel.

The model builds its parts, computes the training loss and makes one network call; restoring
(padding, tiling, precision, seeds, trajectories) is its :class:`RestorationPipeline`'s job.
"""
import weakref
from typing import Callable, Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from rf.diffusion import ResfusionSampler, TruncatedSchedule, q_sample, training_target
from rf.diffusion.process import check_target
from rf.models.fused_input import FusedInput, check_pairing
from rf.models.pipeline import PIPELINE_OPTIONS, RestorationPipeline
from rf.registry import FUSERS, MODELS, TASKS

ConfigOrModule = Union[dict, torch.nn.Module]

# backbone -> its torch.compile'd wrapper. Kept outside the model so that state dicts, deep copies
# (MMEngine's EMA) and pickles never see the wrapper; a copy gets its own. The wrapper refers to
# its backbone, so entries live as long as the process (one per compiled backbone).
_COMPILED = weakref.WeakKeyDictionary()


def compiled_backbone(backbone: torch.nn.Module, options: dict, device: torch.device):
    """``torch.compile(backbone, **options)``, built once per backbone. On CPU, inductor's layout
    optimisation is turned off: it makes these convolutions slower (docs/design.md §7)."""
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
            sample with fewer steps than trained, e.g. ``steps=20``) and of the
            :class:`RestorationPipeline` that restores with it (``seed``, ``deterministic``,
            ``batch_invariant``, ``autocast``, ``channels_last``, ``tile``, ``tile_overlap``).
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
        if compile and not isinstance(compile, (bool, dict)):
            raise TypeError(f'compile must be True/False or a dict of torch.compile options, '
                            f'got {compile!r}.')
        self.compile_options = (dict(compile) if isinstance(compile, dict) else {}) if compile \
            else None
        sampler = dict(sampler or {})
        options = {key: sampler.pop(key) for key in PIPELINE_OPTIONS if key in sampler}
        self.pipeline = RestorationPipeline(
            ResfusionSampler(self.schedule, target=self.target, **sampler), **options)
        self.pipeline.precision.prepare(self.backbone)
        if noise_skip and self.target != 'resnoise':
            raise ValueError(f"noise_skip=True is for target='resnoise' (the skip is a "
                             f"resnoise), not target={self.target!r}.")
        self.noise_skip = bool(noise_skip)

    @property
    def sampler(self) -> ResfusionSampler:
        """The reverse process (the pipeline's)."""
        return self.pipeline.sampler

    def step_function(self, inputs: Dict[str, torch.Tensor], eager: bool = False) -> Callable:
        """``(x_t, t) -> prediction`` for this batch: the condition is encoded here, once (the
        fuser's ``encode``), and each call fuses it with ``x_t`` and runs the backbone at 1-based
        steps ``t``: ``backbone(input, t - 1)``, plus ``context=`` when the fuser returns a
        :class:`FusedInput` with context tokens (the protocol: :mod:`rf.models.fused_input`).
        ``eager=True`` runs the backbone uncompiled even when ``compile`` is configured (to
        count its operations, say)."""
        condition, mask = self.task.condition(inputs)
        encoded = self.fuser.encode(condition, mask)
        backbone = self.backbone
        skip_from = self.task.sampling_degraded(inputs) if self.noise_skip else None

        def step(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            net = backbone
            if self.compile_options is not None and not eager:
                net = compiled_backbone(backbone, self.compile_options, x_t.device)
            fused = self.fuser.fuse(x_t, encoded)
            if isinstance(fused, FusedInput):
                if fused.context is None:
                    output = net(fused.input, t - 1)
                else:
                    output = net(fused.input, t - 1, context=fused.context)
            else:
                output = net(fused, t - 1)
            if skip_from is not None:
                degraded = skip_from if skip_from.shape == x_t.shape else \
                    self.task.degraded(inputs)  # generation trained on real images of another shape
                output = output + self._clean_input_resnoise(x_t, t, degraded)
            return output
        return step

    def network(self, x_t: torch.Tensor, t: torch.Tensor, inputs: Dict[str, torch.Tensor]):
        """One network call at 1-based steps ``t`` (:meth:`step_function` of ``inputs``)."""
        return self.step_function(inputs)(x_t, t)

    def _clean_input_resnoise(self, x_t: torch.Tensor, t: torch.Tensor,
                              degraded: torch.Tensor) -> torch.Tensor:
        """``(x_t - √ᾱ_t·x̂0) / √(1-ᾱ_t)``: the resnoise if x0 were x̂0 (``noise_skip``)."""
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

    def prepare_sampling(self) -> None:
        """Called before each restoration: the weights may have changed unseen since the last
        one (MMEngine's EMA swaps them through ``.data``), so the backbone drops the weight
        caches of its fast path, if it keeps any."""
        clear_caches = getattr(self.backbone, 'clear_weight_caches', None)
        if callable(clear_caches):
            clear_caches()

    @torch.no_grad()
    def restore(self, inputs: Dict[str, torch.Tensor], return_trajectory: bool = False,
                seed_offset: Optional[int] = None):
        """The pipeline's :meth:`~RestorationPipeline.restore` of this batch: x0 in [-1, 1] at
        the batch's (padded) size (and, with ``return_trajectory``, ``[x_T', ..., x_0]``)."""
        return self.pipeline.restore(self, inputs, return_trajectory=return_trajectory,
                                     seed_offset=seed_offset)

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: Optional[List[BaseDataElement]] = None) -> List[BaseDataElement]:
        """Restored (or generated) images as ``pred_img`` in [0, 1] (the pipeline's
        :meth:`~RestorationPipeline.predict`); samples whose metainfo asks for it also get their
        reverse ``trajectory``."""
        return self.pipeline.predict(self, inputs, data_samples)
