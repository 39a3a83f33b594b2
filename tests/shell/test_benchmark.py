"""tools/benchmark.py computes its numbers right (timings themselves are never asserted)."""
import json
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from rf.cli.benchmarking import count_macs, train_shape
from rf.cli.timing import interleaved_medians
from rf.registry import MODELS

from conftest import REPO_ROOT

TINY = """
_base_ = ['{repo}/configs/demo.py']
model = dict(backbone=dict(dim=8, dim_mults=(1, 2)))
"""


def test_mac_counter_counts_convolutions_products_and_attention():
    conv = nn.Conv2d(4, 6, 3, padding=1)
    x = torch.randn(2, 4, 10, 12)
    assert count_macs(lambda: conv(x)) == 2 * 10 * 12 * 6 * 4 * 9
    a, b = torch.randn(3, 5, 7), torch.randn(3, 7, 11)
    assert count_macs(lambda: torch.bmm(a, b)) == 3 * 5 * 7 * 11
    q = k = v = torch.randn(1, 2, 16, 8)
    # q·kᵀ and attention·v: 2 products of 16 x 16 x 8 per head.
    assert count_macs(lambda: nn.functional.scaled_dot_product_attention(q, k, v)) == 2 * 2 * 16 * 16 * 8


def test_interleaved_medians_time_every_function_in_turns():
    calls = []
    medians = interleaved_medians({'a': lambda: calls.append('a'), 'b': lambda: calls.append('b')},
                                  torch.device('cpu'), runs=3, warmup=1)
    assert set(medians) == {'a', 'b'} and all(v >= 0 for v in medians.values())
    assert calls == ['a', 'b'] + ['a', 'b'] * 3


def test_train_shape_reads_the_crop_and_batch():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol_cpu.py'))
    assert train_shape(cfg) == ((96, 96), 8)


@pytest.mark.slow
def test_benchmark_tool_reports_json_rows(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY.format(repo=REPO_ROOT))
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / 'tools' / 'benchmark.py'), str(config), '--size', '32',
         '48', '--runs', '1', '--warmup', '0', '--compare-plain', '--train', '--batch', '2',
         '--json'], capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    fast, plain, speedup, train = rows
    with DefaultScope.overwrite_default_scope('rf'):  # the tiny model, counted independently
        model = MODELS.build(Config.fromfile(str(config)).model)
    assert fast['params'] == plain['params'] == sum(p.numel() for p in model.parameters())
    assert fast['steps'] == 5 and fast['height'] == 32 and fast['width'] == 48
    # The fast path's upsampling does 4 instead of 9 multiply-adds per pixel: fewer MACs.
    assert 0 < fast['macs_per_step'] < plain['macs_per_step']
    for row in (fast, plain):
        assert row['s_per_step'] > 0 and row['s_per_image'] > 0 and row['peak_memory_mb'] > 0
    assert speedup['speedup'] > 0 and train['samples_per_s'] > 0 and train['batch'] == 2
    # Same weights in both variants, so the outputs agree up to rounding (not ~1 apart).
    assert 0 <= speedup['step_rel_diff'] < 1e-5 and 0 <= speedup['image_abs_diff'] < 1e-4


def test_compiled_macs_are_counted_as_the_compiled_graph_runs():
    """Winograd runs only in eager mode, so a compiled network's count is the direct one."""
    from rf.cli.benchmarking import count_step_macs
    from rf.registry import MODELS

    def build(compile, winograd=8):
        torch.manual_seed(0)
        return MODELS.build(dict(
            type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
            schedule=dict(type='linear', T=12), compile=compile,
            backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4,
                          winograd_min_channels=winograd))).eval()
    inputs, x_t, t = {'degraded': torch.randn(1, 3, 16, 16)}, torch.randn(1, 3, 16, 16), \
        torch.tensor([1])
    with torch.no_grad():
        eager = count_step_macs(build(False), inputs, x_t, t)
        compiled_model = build(True)
        compiled = count_step_macs(compiled_model, inputs, x_t, t)
        direct = count_step_macs(build(False, winograd=None), inputs, x_t, t)
    assert compiled != eager  # the eager count has Winograd's products and transforms
    assert compiled == direct
    assert compiled_model.backbone.winograd_min_channels == 8  # counting left it as it was


def test_the_plain_variant_comes_from_the_backbone_protocol():
    """--compare-plain asks the backbone for ``literal()``; one without it is a clear error."""
    from rf.cli.benchmarking import build_benchmark_model
    model = dict(type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
                 schedule=dict(type='linear', T=12),
                 backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4))
    cpu = torch.device('cpu')
    fast = build_benchmark_model(Config(dict(model=model)), cpu)
    plain = build_benchmark_model(Config(dict(model=model)), cpu, fast_path=False)
    assert fast.backbone.fast_path and not plain.backbone.fast_path
    assert list(plain.state_dict()) == list(fast.state_dict())
    ddim = dict(model, backbone=dict(type='DDIMUNet', in_channels=6, ch=8, ch_mult=(1, 2),
                                     norm_groups=4))
    assert build_benchmark_model(Config(dict(model=ddim)), cpu) is not None
    with pytest.raises(ValueError, match=r'DDIMUNet provides no literal\(\).*--compare-plain'):
        build_benchmark_model(Config(dict(model=ddim)), cpu, fast_path=False)


def test_math_options_set_tf32_autocast_and_layout(tmp_path):
    from rf.cli.benchmarking import amp_optim_wrapper, math_pipeline
    config = tmp_path / 'tiny.py'
    config.write_text(TINY.format(repo=REPO_ROOT))
    with DefaultScope.overwrite_default_scope('rf'):
        model = MODELS.build(Config.fromfile(str(config)).model)
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        pipeline = math_pipeline(model, 'fp32', channels_last=False)
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert pipeline.precision.autocast is None
        pipeline = math_pipeline(model, 'bf16', channels_last=True)
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert pipeline.precision.autocast == 'bf16' and model.pipeline.precision.autocast is None
        assert model.backbone.init_conv.weight.is_contiguous(memory_format=torch.channels_last)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    wrapper = amp_optim_wrapper(dict(type='GuardedOptimWrapper', optimizer=dict(type='AdamW')),
                                'fp16')
    assert wrapper['type'] == 'GuardedAmpOptimWrapper' and wrapper['dtype'] == 'float16'
    assert amp_optim_wrapper(dict(type='GuardedOptimWrapper'), 'tf32')['type'] == (
        'GuardedOptimWrapper')
