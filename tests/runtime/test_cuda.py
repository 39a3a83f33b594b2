"""What only a GPU can show (marker ``cuda``; skipped without one, run by tools/gpu_check.sh):
the paper's U-Net on CUDA (fast path, plain path, compile), seeded sampling, a mixed-precision
training step through the guarded optimizer wrapper, and LPIPS/FID on the GPU.

Tolerances: with TF32 (rf's runs set it for convolutions and matrix products alike:
CudaSettingsHook), CUDA results differ from the CPU's by TF32 rounding, about 1e-3 of the
output's scale; with TF32 off everywhere, by fp32 rounding (1e-5), as fast and plain do on the
CPU (1e-6). PyTorch's own default mixes the two (TF32 convolutions, fp32 products), which is why
rf aligns them: the fast path turns 1x1 convolutions and attention into products.
"""
import numpy as np
import pytest
import torch
from mmengine.config import Config

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]

TF32_TOLERANCE = 5e-3  # relative to the output's scale
FP32_TOLERANCE = 1e-4


def small_model(config='configs/demo.py', **backbone):
    from rf.inference import init_model
    cfg = Config.fromfile(config)
    cfg.model.backbone.update(backbone)
    torch.manual_seed(0)
    return init_model(cfg, device='cpu')


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).abs().max() / b.float().abs().max().clamp(min=1e-12))


def backbone_inputs(model, size=64):
    generator = torch.Generator().manual_seed(1)
    channels = model.backbone.init_conv.in_channels
    x = torch.randn(2, channels, size, size, generator=generator)
    return x, torch.tensor([3, 1])


@pytest.mark.parametrize('tf32', [True, False])
def test_backbone_on_cuda_matches_the_cpu_fast_and_plain(tf32):
    from rf.engine.cuda_settings import set_tf32
    model = small_model(dim=16)
    x, t = backbone_inputs(model)
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    set_tf32(tf32)
    try:
        with torch.no_grad():
            reference = model.backbone(x, t)
            backbone = model.backbone.cuda()
            fast = backbone(x.cuda(), t.cuda()).cpu()
            backbone.set_fast_path(False)
            plain = backbone(x.cuda(), t.cuda()).cpu()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    tolerance = TF32_TOLERANCE if tf32 else FP32_TOLERANCE
    assert relative(fast, reference) < tolerance
    assert relative(plain, reference) < tolerance
    assert relative(fast, plain) < tolerance


def test_compiled_backbone_on_cuda_matches_eager():
    model = small_model(dim=16)
    x, t = backbone_inputs(model)
    backbone = model.backbone.cuda()
    with torch.no_grad():
        eager = backbone(x.cuda(), t.cuda())
        compiled = torch.compile(backbone)(x.cuda(), t.cuda())
    assert relative(compiled, eager) < TF32_TOLERANCE


def test_seeded_restoration_on_cuda_is_reproducible():
    from rf.inference import restore_image
    model = small_model(dim=16).cuda()
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    first, second = restore_image(model, image), restore_image(model, image)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_mixed_precision_training_step_through_the_guarded_wrapper(dtype):
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    model = small_model(dim=8).cuda().train()
    with DefaultScope.overwrite_default_scope('rf'):
        wrapper = build_optim_wrapper(model, dict(
            type='GuardedAmpOptimWrapper', dtype=dtype, loss_scale='dynamic',
            optimizer=dict(type='AdamW', lr=1e-4)))
    from mmengine.structures import BaseDataElement
    generator = torch.Generator().manual_seed(2)

    def image():
        return torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=generator)

    batch = dict(inputs=dict(degraded=[image(), image()]),
                 data_samples=[BaseDataElement(gt=image()), BaseDataElement(gt=image())])
    before = [p.detach().clone() for p in model.parameters()]
    log_vars = model.train_step(batch, wrapper)
    assert torch.isfinite(torch.as_tensor(float(log_vars['loss'])))
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before, model.parameters()))


def test_lpips_and_fid_on_cuda_match_the_cpu(tmp_path, monkeypatch):
    from rf.metrics.fid import build_fid_inception
    from rf.metrics.lpips import build_lpips_model, lpips_distance

    from metric_weights import write_fake_hub_cache
    monkeypatch.setenv('TORCH_HOME', str(write_fake_hub_cache(tmp_path / 'torch_home')))
    rng = np.random.default_rng(3)
    a, b = (rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2))
    cpu, gpu = build_lpips_model(), build_lpips_model('cuda')
    assert lpips_distance(gpu, a, b) == pytest.approx(lpips_distance(cpu, a, b), rel=1e-2)
    images = torch.from_numpy(np.stack([a, b])).permute(0, 3, 1, 2).contiguous()
    inception = build_fid_inception()
    with torch.no_grad():
        on_cpu = inception(images)
        on_gpu = inception.cuda()(images.cuda()).cpu()
    assert relative(on_gpu, on_cpu) < 1e-2
