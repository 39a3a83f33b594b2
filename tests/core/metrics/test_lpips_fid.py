"""LPIPS and FID on the lpips package and torchmetrics: parity with the libraries called directly,
the torch hub cache, and one clear error offline.

The pretrained weights cannot be downloaded here, so generated files with the real names, keys
and shapes (tests/helpers/metric_weights.py) go into a temporary torch hub cache (TORCH_HOME); the lpips
package's own v0.1 lin weights, which ship in its wheel, are the real ones.
"""
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from rf.cli.errors import one_line_error
from rf.metrics import lpips as lpips_module
from rf.metrics import pretrained_weights
from rf.metrics.fid import INCEPTION_FILE, INCEPTION_URL
from rf.metrics.image_quality import to_uint8
from rf.metrics.lpips import ALEXNET_FILE, ALEXNET_URL, build_lpips_model, lpips_distance
from rf.metrics.pretrained_weights import MissingWeightsError, WeightsFormatError, ensure_hub_weights
from rf.registry import METRICS

from conftest import REPO_ROOT
from metric_weights import checkpoints_dir, fake_alexnet_state_dict, offline_env, write_fake_hub_cache


@pytest.fixture(scope='module')
def torch_home(tmp_path_factory):
    """A torch hub cache holding the generated AlexNet and FID Inception files."""
    return write_fake_hub_cache(tmp_path_factory.mktemp('torch_home'))


@pytest.fixture
def use_cache(monkeypatch, torch_home):
    monkeypatch.setenv('TORCH_HOME', str(torch_home))
    return torch_home


@pytest.fixture(scope='module')
def models(torch_home):
    """rf's LPIPS model and the lpips package's own, both built from the generated cache."""
    import lpips
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setenv('TORCH_HOME', str(torch_home))
        warnings.simplefilter('ignore')  # torchvision's note on lpips' `pretrained=True`
        return build_lpips_model(), lpips.LPIPS(net='alex', version='0.1', verbose=False).eval()


@pytest.fixture(scope='module')
def fid_metric(torch_home):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('TORCH_HOME', str(torch_home))
        return METRICS.build(dict(type='FID'))


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty torch hub cache, and every download refused at once, network or not."""
    for name, value in offline_env(tmp_path / 'empty_cache').items():
        monkeypatch.setenv(name, value)
    return tmp_path / 'empty_cache'


def smooth_image(seed, size=(48, 56)):
    """A uint8 (H, W, 3) RGB image with structure at several scales."""
    import cv2
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.random((size[0] // 8, size[1] // 8, 3)), size[::-1])
    return np.round((0.8 * coarse + 0.2 * rng.random((*size, 3))) * 255).astype(np.uint8)


def direct_lpips(reference, a, b):
    """The lpips package on two uint8 images, as its own scripts call it (im2tensor)."""
    import lpips
    with torch.no_grad():
        return float(reference(lpips.im2tensor(a), lpips.im2tensor(b)))


# ----------------------------------------------------------------------------- LPIPS


def test_the_lpips_model_is_the_package_network_on_the_cached_weights(models, torch_home,
                                                                      capsys, recwarn):
    import lpips
    model, reference = models
    assert isinstance(model, lpips.LPIPS) and not model.training
    assert not any(p.requires_grad for p in model.parameters())
    trunk = fake_alexnet_state_dict()
    assert torch.equal(getattr(model.net.slice1, '0').weight, trunk['features.0.weight'])
    assert torch.equal(getattr(model.net.slice5, '10').bias, trunk['features.10.bias'])
    for key, value in reference.state_dict().items():  # the shipped lin weights too
        assert torch.equal(model.state_dict()[key], value), key
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('TORCH_HOME', str(torch_home))
        build_lpips_model(device='cpu')
    assert capsys.readouterr().out == ''  # lpips' verbose prints are off
    assert not [w for w in recwarn.list if 'pretrained' in str(w.message)]


def test_lpips_distance_equals_the_package_at_both_protocols(models):
    import cv2
    model, reference = models
    for seed in (2, 3):
        a, b = smooth_image(seed, (40, 64)), smooth_image(seed + 10, (40, 64))
        assert lpips_distance(model, a, b) == pytest.approx(direct_lpips(reference, a, b),
                                                            abs=1e-6)
        # Measure_256_lpips.py: cv2.resize(img, (256, 256)), bilinear, before LPIPS.
        a256 = cv2.resize(a, (256, 256), interpolation=cv2.INTER_LINEAR)
        b256 = cv2.resize(b, (256, 256), interpolation=cv2.INTER_LINEAR)
        value = lpips_distance(model, a, b, resize=256)
        assert value == pytest.approx(direct_lpips(reference, a256, b256), abs=1e-6)
        assert value != pytest.approx(lpips_distance(model, a, b), abs=1e-4)


def test_lpips_of_identical_images_is_zero_symmetric_and_grows_with_distortion(models):
    model, _ = models
    x = smooth_image(0)
    assert lpips_distance(model, x, x) == 0.0
    noise = np.random.default_rng(1).normal(size=x.shape)
    distorted = [np.clip(x + s * noise, 0, 255).round().astype(np.uint8) for s in (3, 15, 40, 100)]
    distances = [lpips_distance(model, x, y) for y in distorted]
    assert all(a < b for a, b in zip(distances, distances[1:])), distances
    assert lpips_distance(model, distorted[2], x) == pytest.approx(distances[2], rel=1e-6)


def test_lpips_distance_checks_its_input(models):
    model, _ = models
    with pytest.raises(ValueError, match='at least 31x31'):
        lpips_distance(model, np.zeros((30, 64, 3), np.uint8), np.zeros((30, 64, 3), np.uint8))
    assert lpips_distance(model, np.zeros((31, 31, 3), np.uint8),
                          np.zeros((31, 31, 3), np.uint8)) == 0
    with pytest.raises(ValueError, match=r'uint8 \(H, W, 3\) RGB'):
        lpips_distance(model, np.zeros((40, 40, 3)), np.zeros((40, 40, 3)))
    with pytest.raises(ValueError, match='differ in shape'):
        lpips_distance(model, np.zeros((40, 40, 3), np.uint8), np.zeros((40, 48, 3), np.uint8))
    # With resize=256 each image is resized on its own (Measure_256_lpips.py), so sizes may differ.
    assert lpips_distance(model, np.zeros((40, 40, 3), np.uint8), np.zeros((40, 48, 3), np.uint8),
                          resize=256) == 0


def test_lpips_metric_scores_quantised_images_at_both_protocols(use_cache, models):
    import cv2
    _, reference = models
    generator = torch.Generator().manual_seed(4)
    gts = [torch.rand(3, 40, 52, generator=generator) for _ in range(2)]
    preds = [(g + 0.1 * torch.randn(g.shape, generator=generator)).clamp(0, 1) for g in gts]
    samples = [dict(pred_img=p, gt=g) for p, g in zip(preds, gts)]
    hwc = [(to_uint8(p).permute(1, 2, 0).numpy(), to_uint8(g).permute(1, 2, 0).numpy())
           for p, g in zip(preds, gts)]  # quantised to uint8, as saved PNGs
    for resize, key in ((None, 'LPIPS'), (256, 'LPIPS_256')):
        metric = METRICS.build(dict(type='LPIPS', resize=resize))
        metric.process({}, samples)
        result = metric.evaluate(len(samples))
        assert set(result) == {key}
        size = resize and (resize, resize)
        expected = np.mean([direct_lpips(reference, *(cv2.resize(x, size) if size else x
                                                      for x in pair)) for pair in hwc])
        assert result[key] == pytest.approx(expected, abs=1e-6) and result[key] > 0
    metric = METRICS.build(dict(type='LPIPS', source='input'))
    metric.process({'inputs': {'degraded': [(g * 255).round().to(torch.uint8) for g in gts]}},
                   samples)
    assert metric.evaluate(2) == {'LPIPS_input': 0.0}  # the "input" here is the ground truth


# ----------------------------------------------------------------------------- weight files


def test_the_file_names_and_urls_are_the_libraries():
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
    from torchvision.models import AlexNet_Weights
    assert ALEXNET_URL == AlexNet_Weights.IMAGENET1K_V1.url
    assert ALEXNET_URL.endswith('/' + ALEXNET_FILE)
    assert INCEPTION_URL == URL_INCEPTION_V3 and INCEPTION_URL.endswith('/' + INCEPTION_FILE)


@pytest.mark.parametrize('metric, filename, url', [('LPIPS', ALEXNET_FILE, ALEXNET_URL),
                                                   ('FID', INCEPTION_FILE, INCEPTION_URL)])
def test_offline_without_the_file_one_clear_error(offline, metric, filename, url):
    start = time.monotonic()
    with pytest.raises(MissingWeightsError) as info:
        METRICS.build(dict(type=metric))
    assert time.monotonic() - start < 10
    message = one_line_error(info.value)
    assert message is not None and '\n' not in message  # the tools print it as one line
    path = str(offline / 'hub' / 'checkpoints' / filename)
    assert filename in message and path in message and url in message
    assert os.listdir(offline / 'hub' / 'checkpoints') == []  # no partial download left


def test_a_silent_server_does_not_hang_the_build(monkeypatch, tmp_path):
    """A host that accepts the connection and never answers: the download gives up after the
    socket timeout, and the build stops with the clear error."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('no_proxy', '*')
    monkeypatch.setattr(pretrained_weights, 'DOWNLOAD_TIMEOUT', 1.0)
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(4)  # the kernel accepts connections; nobody ever replies
        url = f'http://127.0.0.1:{server.getsockname()[1]}/{ALEXNET_FILE}'
        monkeypatch.setattr(lpips_module, 'ALEXNET_URL', url)
        start = time.monotonic()
        with pytest.raises(MissingWeightsError, match='timed out') as info:
            build_lpips_model()
        assert time.monotonic() - start < 10
    assert url in str(info.value) and str(tmp_path / 'hub' / 'checkpoints') in str(info.value)


@pytest.fixture
def file_server(tmp_path):
    """A local HTTP server over ``tmp_path / 'served'``; yields (folder, base URL)."""
    folder = tmp_path / 'served'
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_an_absent_file_is_downloaded_on_first_use(monkeypatch, tmp_path, file_server):
    folder, base = file_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'cache'))
    monkeypatch.setenv('no_proxy', '*')
    torch.save(fake_alexnet_state_dict(), folder / ALEXNET_FILE)
    path = ensure_hub_weights(ALEXNET_FILE, f'{base}/{ALEXNET_FILE}', 'LPIPS')
    assert path == str(checkpoints_dir(tmp_path / 'cache') / ALEXNET_FILE)
    assert (folder / ALEXNET_FILE).read_bytes() == open(path, 'rb').read()
    # The real AlexNet file's SHA-256 starts with 7be5be79 (torchvision checks it): a served
    # file with another hash is refused, and nothing is left in the cache.
    os.remove(path)
    monkeypatch.setattr(lpips_module, 'ALEXNET_URL', f'{base}/{ALEXNET_FILE}')
    with pytest.raises(MissingWeightsError, match='invalid hash value'):
        build_lpips_model()
    assert not os.path.exists(path)


@pytest.mark.parametrize('metric, filename', [('LPIPS', ALEXNET_FILE), ('FID', INCEPTION_FILE)])
def test_an_unreadable_cached_file_is_named(monkeypatch, tmp_path, metric, filename):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    path = checkpoints_dir(tmp_path) / filename
    path.parent.mkdir(parents=True)
    path.write_text('not a weight file')
    with pytest.raises(WeightsFormatError) as info:
        METRICS.build(dict(type=metric))
    message = one_line_error(info.value)
    assert message is not None and str(path) in message and 'Delete the file' in message


# ----------------------------------------------------------------------------- FID


def image_samples(seed, count=4, size=(40, 44), shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(3, *size, generator=generator) * 0.8 + shift).clamp(0, 1)
            for _ in range(count)]


def fid_sets():
    """Four predictions and four ground truths of another size and brightness."""
    return image_samples(1), image_samples(2, size=(64, 48), shift=0.2)


@pytest.fixture(scope='module')
def fid_reference(fid_metric):
    """The single-process FID of :func:`fid_sets` and the features it stored."""
    preds, gts = fid_sets()
    fid_metric.process({}, [dict(pred_img=p, gt=g) for p, g in zip(preds, gts)])
    results = [dict(r) for r in fid_metric.results]
    return results, fid_metric.evaluate(len(preds))['FID']


def test_fid_equals_torchmetrics_on_the_quantised_images(use_cache, fid_reference):
    from torchmetrics.image.fid import FrechetInceptionDistance
    results, value = fid_reference
    preds, gts = fid_sets()
    reference = FrechetInceptionDistance(feature=2048, normalize=True)
    # Quantised to uint8 as saved PNGs, read back as floats in [0, 1] (ToTensor).
    reference.update(torch.stack([to_uint8(x).float() / 255 for x in gts]), real=True)
    reference.update(torch.stack([to_uint8(x).float() / 255 for x in preds]), real=False)
    assert value > 0
    assert value == pytest.approx(float(reference.compute()), rel=1e-6)
    assert len(results) == 4 and results[0]['pred'].shape == (2048,)


def test_fid_of_a_set_with_itself_is_zero(fid_metric):
    images = image_samples(0, count=3)
    fid_metric.process({}, [dict(pred_img=x, gt=x) for x in images])
    features = np.stack([r['pred'] for r in fid_metric.results])
    assert fid_metric.evaluate(len(images))['FID'] == pytest.approx(
        0.0, abs=1e-5 * float(np.var(features, axis=0).sum()))


def test_fid_needs_two_images(fid_metric):
    fid_metric.process({}, [dict(pred_img=image_samples(5, 1)[0], gt=image_samples(6, 1)[0])])
    with pytest.raises(ValueError, match='at least 2 images'):
        fid_metric.evaluate(1)
    fid_metric.results.clear()  # evaluate() clears them only after a successful computation


DISTRIBUTED_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import torch, torch.distributed as dist
    sys.path[:0] = {tests!r}
    from test_lpips_fid import fid_sets
    from rf.registry import METRICS
    import mmengine.dist.dist as mmengine_dist

    def through_a_folder(*args, **kwargs):  # needs a shared filesystem across machines
        raise AssertionError('results were gathered through a temporary folder')
    mmengine_dist.collect_results_cpu = through_a_folder
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    preds, gts = fid_sets()
    metric = METRICS.build(dict(type='FID'))
    # The default sampler's interleaved shards: rank r gets samples r, r + 2, ...
    metric.process({{}}, [dict(pred_img=preds[i], gt=gts[i]) for i in range(rank, 4, 2)])
    result = metric.evaluate(4)
    if rank == 0:
        with open({out!r}, 'w') as handle:
            json.dump(result, handle)
    dist.destroy_process_group()
''')


@pytest.mark.slow
def test_fid_in_two_process_distributed_evaluation(tmp_path, torch_home, fid_reference):
    """Each rank keeps its own samples' features; rank 0 scores the whole set, gathered over the
    process group (no temporary folder, which several machines would need to share)."""
    out = tmp_path / 'fid.json'
    script = tmp_path / 'dist_fid.py'
    folders = [str(Path(__file__).resolve().parent), str(REPO_ROOT / 'tests'),
               str(REPO_ROOT / 'tests' / 'helpers')]  # this module, conftest, the helpers
    script.write_text(DISTRIBUTED_SCRIPT.format(tests=folders, out=str(out)))
    port = free_port()
    processes = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE='2', MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), OMP_NUM_THREADS='1', TORCH_HOME=str(torch_home))
        processes.append(subprocess.Popen([sys.executable, str(script)], env=env, cwd=REPO_ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    logs = [p.communicate(timeout=300)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), '\n'.join(logs)[-4000:]
    assert json.loads(out.read_text())['FID'] == pytest.approx(fid_reference[1], rel=1e-5)


def test_fid_features_do_not_depend_on_the_chunk_size(torch_home, fid_metric, monkeypatch):
    """Inception runs on at most chunk_size images per pass (a 500-image validation batch would
    not fit a GPU in one), with the same features."""
    monkeypatch.setenv('TORCH_HOME', str(torch_home))
    chunked = METRICS.build(dict(type='FID', chunk_size=3))
    passes = []
    original = chunked.inception.forward
    monkeypatch.setattr(chunked.inception, 'forward',
                        lambda batch: passes.append(len(batch)) or original(batch))
    preds, _ = fid_sets()
    images = list(preds) * 2  # 8 images of one size
    features = chunked._features(images, torch.device('cpu'))
    assert passes == [3, 3, 2]
    np.testing.assert_allclose(features, fid_metric._features(images, torch.device('cpu')),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='chunk_size'):
        METRICS.build(dict(type='FID', chunk_size=0))
