"""What tools/benchmark.py measures: MACs by an exact counter, medians of timed runs, peak memory.

Timings are for reports, never for tests; tests check that the numbers are computed right.
"""
import copy
import time
from typing import Callable, Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement

from rf.cli.timing import interleaved_medians, median_seconds, peak_memory_mb, reset_peak_memory
from rf.registry import MODELS


def build_benchmark_model(cfg: Config, device: torch.device, fast_path: bool = True,
                          compile: bool = False) -> torch.nn.Module:
    """The config's model (random weights) on ``device`` in eval mode; ``fast_path=False``
    gives it its backbone's reference formulation, for ``--compare-plain``.

    The backbone protocol (optional methods a backbone may provide; the benchmark knows
    nothing else of a backbone's internals):

    * ``literal()``: a copy of the network that computes its reference formulation (for the
      paper's U-Net, the authors' code, literally) with the same parameter names and values.
      A backbone without it has no plain variant, and ``fast_path=False`` says so.
    * ``as_compiled()``: a context manager in which the eager network computes what
      torch.compile's graph of it computes, where the two differ (see
      :func:`count_step_macs`)."""
    model_cfg = copy.deepcopy(cfg.model)
    if compile:
        model_cfg['compile'] = model_cfg.get('compile') or True
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'rf')):
        model = MODELS.build(model_cfg)
    if not fast_path:
        literal = getattr(model.backbone, 'literal', None)
        if not callable(literal):
            raise ValueError(f'{type(model.backbone).__name__} provides no literal() (a copy '
                             'computing its reference formulation), so --compare-plain does '
                             'not apply to it.')
        model.backbone = literal()
    return model.to(device).eval()


MATH_CHOICES = ('fp32', 'tf32', 'fp16', 'bf16')


def math_pipeline(model: torch.nn.Module, math: str, channels_last: bool):
    """The model's restoration pipeline with its network in ``math``: ``fp32`` (no TF32
    anywhere), ``tf32`` (TF32 in convolutions and matrix products, rf's training default on
    GPUs: CudaSettingsHook), or autocast to ``fp16``/``bf16`` (with TF32 for what stays fp32);
    ``channels_last`` stores the backbone (converted now) and its inputs channels-last. TF32 is
    a process-wide setting; the model itself is left as it is."""
    from rf.engine.cuda_settings import set_tf32
    if math not in MATH_CHOICES:
        raise ValueError(f'math={math!r}: choose one of {MATH_CHOICES}.')
    set_tf32(math != 'fp32')
    pipeline = model.pipeline.replace(autocast=math if math in ('fp16', 'bf16') else None,
                                      channels_last=channels_last)
    pipeline.precision.prepare(model.backbone)
    return pipeline


def amp_optim_wrapper(cfg_optim_wrapper: dict, math: str) -> dict:
    """The config's optimizer wrapper, mixed precision for ``math`` fp16/bf16 (as ``--amp``)."""
    if math not in ('fp16', 'bf16'):
        return cfg_optim_wrapper
    return dict(cfg_optim_wrapper, type='GuardedAmpOptimWrapper',
                dtype='float16' if math == 'fp16' else 'bfloat16')


def step_inputs(model: torch.nn.Module, batch: int, size: Tuple[int, int]):
    """``(inputs, x_t, t)`` for one network call at the first sampling step."""
    device = next(model.parameters()).device
    x_t = torch.randn(batch, 3, *size, device=device)
    t = torch.full((batch,), model.schedule.T_acc, device=device, dtype=torch.long)
    return fake_inputs(model, batch, size, device), x_t, t


def compare_steps(models: Dict[str, torch.nn.Module], size: Tuple[int, int], batch: int,
                  runs: int, warmup: int) -> Dict[str, float]:
    """Seconds per network step of several models on one input, timed in turns (the condition
    encoded once, as sampling does)."""
    first = next(iter(models.values()))
    device = next(first.parameters()).device
    inputs, x_t, t = step_inputs(first, batch, size)
    with torch.no_grad():
        steps = {name: model.pipeline.step_function(model, inputs)
                 for name, model in models.items()}
        return interleaved_medians({name: (lambda s=step: s(x_t, t))
                                    for name, step in steps.items()}, device, runs, warmup)


def output_differences(fast: torch.nn.Module, plain: torch.nn.Module, size: Tuple[int, int],
                       batch: int) -> Dict[str, float]:
    """How far the fast variant's outputs are from the plain one's, on one input and the same
    weights: one network step, relative to the plain output's largest magnitude, and the whole
    restoration, absolute (images in [-1, 1])."""
    inputs, x_t, t = step_inputs(fast, batch, size)
    with torch.no_grad():
        expected = plain.pipeline.step_function(plain, inputs)(x_t, t)
        step = ((fast.pipeline.step_function(fast, inputs)(x_t, t) - expected).abs().max()
                / expected.abs().max())
        image = (fast.restore(inputs) - plain.restore(inputs)).abs().max()
    return dict(step_rel_diff=float(f'{step.item():.3g}'),
                image_abs_diff=float(f'{image.item():.3g}'))


def count_macs(fn: Callable[[], object]) -> int:
    """Multiply-accumulates of one call of ``fn``: torch's FlopCounterMode counts every aten
    matmul and convolution (2 FLOPs per MAC), whatever module issues it. Fused attention is
    counted through its math form: the counter has no formula for the CPU kernel and would
    count it as 0."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with sdpa_kernel([SDPBackend.MATH]), counter:
        fn()
    return counter.get_total_flops() // 2


def count_step_macs(model: torch.nn.Module, inputs: Dict[str, torch.Tensor], x_t: torch.Tensor,
                    t: torch.Tensor) -> int:
    """:func:`count_macs` of one network step as the model runs it. Counted on the eager
    backbone (``step_function(..., eager=True)``): under the counter's module hooks
    torch.compile would build (and keep) a graph unlike the one that is timed. For a model
    configured with ``compile`` the count is taken inside the backbone's ``as_compiled()`` when
    it has one (:func:`build_benchmark_model`): the paper's U-Net, for one, convolves directly
    when compiled, where its eager forward takes Winograd's route."""
    import contextlib
    as_compiled = getattr(model.backbone, 'as_compiled', None)
    context = (as_compiled() if model.compile_options is not None and callable(as_compiled)
               else contextlib.nullcontext())
    step = model.step_function(inputs, eager=True)
    with context:
        return count_macs(lambda: step(x_t, t))


def fake_inputs(model: torch.nn.Module, batch: int, size: Tuple[int, int],
                device: torch.device) -> Dict[str, torch.Tensor]:
    """Preprocessed inputs in [-1, 1]; a binary mask (0/255) too when the fuser takes one
    (ISTD: ``mask_encoding`` or ``mask_channels``) or the concat backbone has 8 channels."""
    generator = torch.Generator().manual_seed(0)
    inputs = {'degraded': (torch.rand(batch, 3, *size, generator=generator) * 2 - 1).to(device)}
    takes_mask = bool(getattr(model.fuser, 'mask_encoding', None)
                      or getattr(model.fuser, 'mask_channels', 0))
    if takes_mask or getattr(model.backbone, 'in_channels', 6) == 8:
        inputs['mask'] = (torch.rand(batch, 1, *size, generator=generator) > 0.5).float().to(device) * 255
    return inputs


def measure_inference(model: torch.nn.Module, size: Tuple[int, int], batch: int, runs: int,
                      warmup: int, pipeline=None) -> dict:
    """Parameters, MACs per step, seconds per network step and per restored image (all T'
    steps of the sampler), achieved GFLOP/s and peak memory for a (batch, 3, H, W) input,
    restored by ``pipeline`` (default: the model's own)."""
    pipeline = pipeline or model.pipeline
    device = next(model.parameters()).device
    inputs, x_t, t = step_inputs(model, batch, size)
    with torch.no_grad():
        macs = count_step_macs(model, inputs, x_t, t)
        reset_peak_memory(device)
        step = pipeline.step_function(model, inputs)
        s_per_step = median_seconds(lambda: step(x_t, t), device, runs, warmup)
        s_per_batch = median_seconds(lambda: pipeline.restore(model, inputs), device,
                                     max(1, runs // 2), warmup=0)  # the step runs warmed up
    return dict(params=sum(p.numel() for p in model.parameters()),
                macs_per_step=macs // batch, steps=model.sampler.num_steps,
                s_per_step=round(s_per_step, 4), s_per_image=round(s_per_batch / batch, 4),
                gflops=round(2 * macs / s_per_step / 1e9, 1),
                peak_memory_mb=round(peak_memory_mb(device), 1))


def train_shape(cfg: Config) -> Tuple[Tuple[int, int], int]:
    """The config's training patch (its RandomCrop's height and width; 256 if it has none)
    and batch size."""
    loader = cfg.get('train_dataloader') or {}
    patch = (256, 256)
    for transform in _walk(loader.get('dataset', {}).get('pipeline', [])):
        if transform.get('type') == 'RandomCrop' and 'height' in transform:
            patch = (int(transform['height']), int(transform['width']))
    return patch, int(loader.get('batch_size', 1))


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _walk(value)


def measure_training(model: torch.nn.Module, cfg: Config, patch: Tuple[int, int], batch: int,
                     runs: int, warmup: int, math: str = 'tf32') -> dict:
    """Training samples per second: the model's ``train_step`` (preprocessing, forward,
    backward, the config's optimizer; mixed precision for ``math`` fp16/bf16) on uint8
    batches of ``patch``-sized images."""
    from mmengine.optim import build_optim_wrapper
    device = next(model.parameters()).device
    if math in ('fp16', 'bf16') and device.type != 'cuda':
        raise ValueError(f'--train --math {math} needs a GPU: MMEngine\'s mixed-precision '
                         'optimizer wrapper (--amp in tools/train.py) runs on CUDA only.')
    model.train()
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'rf')):
        optim_wrapper = build_optim_wrapper(model, amp_optim_wrapper(cfg.optim_wrapper, math))
    generator = torch.Generator().manual_seed(0)

    def image():
        return torch.randint(0, 256, (3, *patch), dtype=torch.uint8, generator=generator)
    data = dict(inputs=dict(degraded=[image() for _ in range(batch)]),
                data_samples=[BaseDataElement(gt=image()) for _ in range(batch)])
    reset_peak_memory(device)
    seconds = median_seconds(lambda: model.train_step(data, optim_wrapper), device, runs, warmup)
    return dict(params=sum(p.numel() for p in model.parameters()),
                s_per_iter=round(seconds, 4), samples_per_s=round(batch / seconds, 2),
                peak_memory_mb=round(peak_memory_mb(device), 1))


def loader_throughput(cfg: Config, batches: int) -> dict:
    """Samples per second of the config's train_dataloader alone (workers included)."""
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'rf')):
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        iterator = iter(loader)
        next(iterator)  # workers start, caches fill for the first batch
        start = time.perf_counter()
        samples = 0
        for _ in range(batches):
            samples += len(next(iterator)['data_samples'])
        seconds = time.perf_counter() - start
    return dict(batches=batches, s_per_batch=round(seconds / batches, 4),
                samples_per_s=round(samples / seconds, 2))
