"""LPIPS and FID: the formulas, the accepted weight files, and the clear errors without them.

The pretrained weights cannot be downloaded here, so randomly initialised files in the accepted
formats (tests/metric_weights.py) stand in for them; the formulas are checked against direct
re-computations and closed forms.
"""
import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import REPO_ROOT
from metric_weights import (fake_inception_state_dict, fake_lpips_state_dicts,
                            write_fake_inception_weights, write_fake_lpips_weights)
from rf.engine.error_messages import one_line_error
from rf.metrics.fid import frechet_distance, feature_statistics, trace_sqrt_product
from rf.metrics.fid_inception import FIDInceptionE, InceptionFeatures, _tf_avg_pool
from rf.metrics.image_quality import to_uint8
from rf.metrics.pretrained_weights import MissingWeightsError, WeightsFormatError
from rf.registry import METRICS


@pytest.fixture(scope='module')
def lpips_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('lpips') / 'lpips_alex_combined.pth'
    return path, write_fake_lpips_weights(path)


@pytest.fixture(scope='module')
def lpips_metric(lpips_file):
    return METRICS.build(dict(type='LPIPS', weights=str(lpips_file[0])))


@pytest.fixture(scope='module')
def inception_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('fid') / 'pt_inception-fake.pth'
    write_fake_inception_weights(path)
    return path


@pytest.fixture(scope='module')
def fid_metric(inception_file):
    return METRICS.build(dict(type='FID', weights=str(inception_file)))


def smooth_image(seed, size=(48, 56)):
    """A (1, 3, H, W) image in [-1, 1] with structure at several scales."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, size[0] // 8, size[1] // 8, generator=generator)
    fine = torch.rand(1, 3, *size, generator=generator)
    image = F.interpolate(coarse, size=size, mode='bilinear', align_corners=False)
    return (0.8 * image + 0.2 * fine) * 2 - 1


def reference_lpips(state, a, b):
    """LPIPS written out from the paper's definition, in float64, from the raw state dict."""
    shift = torch.tensor([-.030, -.088, -.188], dtype=torch.float64).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450], dtype=torch.float64).view(1, 3, 1, 1)
    w = {k: v.double() for k, v in state.items()}

    def relus(x):
        x = (x.double() - shift) / scale
        x = F.relu(F.conv2d(x, w['features.0.weight'], w['features.0.bias'], stride=4, padding=2))
        outs = [x]
        x = F.relu(F.conv2d(F.max_pool2d(x, 3, 2), w['features.3.weight'], w['features.3.bias'],
                            padding=2))
        outs.append(x)
        x = F.max_pool2d(x, 3, 2)
        for index in (6, 8, 10):
            x = F.relu(F.conv2d(x, w[f'features.{index}.weight'], w[f'features.{index}.bias'],
                                padding=1))
            outs.append(x)
        return outs

    total = 0.0
    for layer, (fa, fb) in enumerate(zip(relus(a), relus(b))):
        na = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        nb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        weight = w[f'lin{layer}.model.1.weight'].view(1, -1, 1, 1)
        total += float((weight * (na - nb) ** 2).sum(1).mean())
    return total


# ----------------------------------------------------------------------------- missing weights


@pytest.mark.parametrize('metric, env_var, expected_file', [
    ('LPIPS', 'RF_LPIPS_WEIGHTS', 'alex.pth'),
    ('FID', 'RF_INCEPTION_WEIGHTS', 'pt_inception-2015-12-05-6726825d.pth'),
])
def test_no_weights_give_one_clear_error(monkeypatch, tmp_path, metric, env_var, expected_file):
    monkeypatch.delenv(env_var, raising=False)
    with pytest.raises(MissingWeightsError) as info:
        METRICS.build(dict(type=metric))
    message = one_line_error(info.value)
    assert message is not None and '\n' not in message  # the tools print it as one line
    assert expected_file in message and env_var in message and 'weights=' in message
    absent = tmp_path / 'nowhere' / 'weights.pth'
    with pytest.raises(MissingWeightsError, match=str(absent)) as info:
        METRICS.build(dict(type=metric, weights=str(absent)))
    assert expected_file in str(info.value) and env_var in str(info.value)
    monkeypatch.setenv(env_var, str(absent))
    with pytest.raises(MissingWeightsError, match=f'{absent}.*from {env_var}'):
        METRICS.build(dict(type=metric))


# ----------------------------------------------------------------------------- LPIPS


def test_lpips_of_identical_images_is_zero_symmetric_and_grows_with_distortion(lpips_metric):
    network = lpips_metric.network
    x = smooth_image(0)
    assert float(network(x, x)) == 0.0
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    distances = [float(network(x, (x + s * noise).clamp(-1, 1))) for s in (0.02, 0.1, 0.3, 0.8)]
    assert all(a < b for a, b in zip(distances, distances[1:])), distances
    y = (x + 0.3 * noise).clamp(-1, 1)
    assert float(network(y, x)) == pytest.approx(float(network(x, y)), rel=1e-6)


def test_lpips_matches_the_formula_written_out(lpips_file, lpips_metric):
    _, state = lpips_file
    for seed in (2, 3):
        a, b = smooth_image(seed, (40, 64)), smooth_image(seed + 10, (40, 64))
        assert float(lpips_metric.network(a, b)) == pytest.approx(reference_lpips(state, a, b),
                                                                  rel=1e-4)


def test_lpips_metric_scores_quantised_images_at_both_protocols(lpips_file):
    path, state = lpips_file
    generator = torch.Generator().manual_seed(4)
    gts = [torch.rand(3, 40, 52, generator=generator) for _ in range(2)]
    preds = [(g + 0.1 * torch.randn(g.shape, generator=generator)).clamp(0, 1) for g in gts]
    samples = [dict(pred_img=p, gt=g) for p, g in zip(preds, gts)]
    for resize, key in ((None, 'LPIPS'), (256, 'LPIPS_256')):
        metric = METRICS.build(dict(type='LPIPS', weights=str(path), resize=resize))
        metric.process({}, samples)
        result = metric.evaluate(len(samples))
        assert set(result) == {key}
        if resize is None:  # each image quantised to uint8 as a saved PNG, then to [-1, 1]
            expected = np.mean([reference_lpips(state, to_uint8(p)[None] / 127.5 - 1,
                                                to_uint8(g)[None] / 127.5 - 1)
                                for p, g in zip(preds, gts)])
            assert result[key] == pytest.approx(expected, rel=1e-4)
        assert result[key] > 0
    metric = METRICS.build(dict(type='LPIPS', weights=str(path), source='input'))
    metric.process({'inputs': {'degraded': [(g * 255).round().to(torch.uint8) for g in gts]}},
                   samples)
    assert metric.evaluate(2) == {'LPIPS_input': 0.0}  # the "input" here is the ground truth


def test_lpips_refuses_images_below_its_smallest_size(lpips_metric):
    x = torch.zeros(1, 3, 30, 64)
    with pytest.raises(ValueError, match='at least 31x31'):
        lpips_metric.network(x, x)
    assert float(lpips_metric.network(torch.zeros(1, 3, 31, 31), torch.zeros(1, 3, 31, 31))) == 0


def lpips_module_layout(lin, trunk):
    """The state dict of a whole ``lpips.LPIPS(net='alex')`` module."""
    slices = {'0': 1, '3': 2, '6': 3, '8': 4, '10': 5}
    state = {f"net.slice{slices[k.split('.')[1]]}.{k.split('.', 1)[1]}": v
             for k, v in trunk.items()}
    state.update(lin)
    state.update({k.replace('lin', 'lins.'): v for k, v in lin.items()})
    state['scaling_layer.shift'] = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    state['scaling_layer.scale'] = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
    return state


def test_lpips_accepts_the_official_files_separately_or_combined(tmp_path, monkeypatch,
                                                                 lpips_metric):
    from torchvision.models import alexnet
    lin, trunk = fake_lpips_state_dicts(seed=0)  # the same weights as the combined fixture
    torchvision_alexnet = alexnet(weights=None).state_dict()  # with its classifier
    torchvision_alexnet.update(trunk)
    torch.save(lin, tmp_path / 'alex.pth')
    torch.save(torchvision_alexnet, tmp_path / 'alexnet-owt-7be5be79.pth')
    torch.save(lpips_module_layout(lin, trunk), tmp_path / 'lpips_module.pth')
    torch.save({'state_dict': {**trunk, **lin}}, tmp_path / 'wrapped.pth')
    a, b = smooth_image(5), smooth_image(6)
    expected = float(lpips_metric.network(a, b))
    pair = [str(tmp_path / 'alex.pth'), str(tmp_path / 'alexnet-owt-7be5be79.pth')]
    built = [METRICS.build(dict(type='LPIPS', weights=pair)),
             METRICS.build(dict(type='LPIPS', weights=os.pathsep.join(pair))),
             METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'lpips_module.pth'))),
             METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'wrapped.pth')))]
    monkeypatch.setenv('RF_LPIPS_WEIGHTS', os.pathsep.join(pair))
    built.append(METRICS.build(dict(type='LPIPS')))
    for metric in built:
        assert float(metric.network(a, b)) == pytest.approx(expected, rel=1e-6)


def test_lpips_wrong_files_name_the_file(tmp_path):
    lin, trunk = fake_lpips_state_dicts()
    torch.save(lin, tmp_path / 'alex.pth')
    with pytest.raises(WeightsFormatError, match=r'alex\.pth.*alexnet-owt-7be5be79\.pth'):
        METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'alex.pth')))
    torch.save(trunk, tmp_path / 'trunk.pth')
    with pytest.raises(WeightsFormatError, match=r'trunk\.pth.*lin0.*alex\.pth'):
        METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'trunk.pth')))
    (tmp_path / 'notes.pth').write_text('not a weight file')
    with pytest.raises(WeightsFormatError, match=r'notes\.pth') as info:
        METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'notes.pth')))
    assert one_line_error(info.value) is not None
    negative = {**trunk, **lin, 'lin2.model.1.weight': -lin['lin2.model.1.weight']}
    torch.save(negative, tmp_path / 'negative.pth')
    with pytest.raises(WeightsFormatError, match=r'lin2.*negative\.pth.*non-negative'):
        METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'negative.pth')))
    bad_shape = {**trunk, **lin, 'features.3.weight': torch.zeros(192, 64, 3, 3)}
    torch.save(bad_shape, tmp_path / 'wrong_shape.pth')
    with pytest.raises(WeightsFormatError,
                       match=r'features\.3\.weight in .*wrong_shape\.pth has shape'):
        METRICS.build(dict(type='LPIPS', weights=str(tmp_path / 'wrong_shape.pth')))


# ----------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance_matches_the_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    var1, var2 = rng.uniform(0.1, 3, 16), rng.uniform(0.1, 3, 16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected,
                                                                                      rel=1e-10)
    assert frechet_distance([0.0], [[1.0]], [0.0], [[4.0]]) == pytest.approx(1.0)  # (1 - 2)²


def test_trace_of_the_square_root_matches_scipy_sqrtm():
    linalg = pytest.importorskip('scipy.linalg')
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 30)), rng.normal(size=(50, 30))
    sigma1, sigma2 = a.T @ a / 40, b.T @ b / 50
    expected = np.trace(linalg.sqrtm(sigma1 @ sigma2)).real  # pytorch-fid's computation
    assert trace_sqrt_product(sigma1, sigma2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_stays_finite_for_singular_covariances():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(6, 256))  # 6 samples: covariance of rank 5
    mu, sigma = feature_statistics(features)
    assert frechet_distance(mu, sigma, mu, sigma) < 1e-8 * np.trace(sigma)
    other_mu, other_sigma = feature_statistics(rng.normal(size=(6, 256)) + 0.5)
    value = frechet_distance(mu, sigma, other_mu, other_sigma)
    assert np.isfinite(value) and value > 256 * 0.25  # at least the mean shift


# ----------------------------------------------------------------------------- FID metric


def image_samples(seed, count=4, size=(40, 44), shift=0.0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(3, *size, generator=generator) * 0.8 + shift).clamp(0, 1)
            for _ in range(count)]


def fid_sets():
    """Four predictions and four ground truths of other sizes and brightness."""
    return image_samples(1), image_samples(2, size=(64, 48), shift=0.2)


@pytest.fixture(scope='module')
def fid_reference(fid_metric):
    """The single-process FID of :func:`fid_sets` and the features it stored."""
    preds, gts = fid_sets()
    fid_metric.process({}, [dict(pred_img=p, gt=g) for p, g in zip(preds, gts)])
    results = [dict(r) for r in fid_metric.results]
    return results, fid_metric.evaluate(len(preds))['FID']


def test_fid_of_a_set_with_itself_is_zero(fid_metric):
    images = image_samples(0, count=2)
    fid_metric.process({}, [dict(pred_img=x, gt=x) for x in images])
    assert fid_metric.evaluate(len(images))['FID'] == pytest.approx(0.0, abs=1e-6)


def test_fid_equals_the_frechet_distance_of_inception_features(fid_metric, fid_reference):
    results, value = fid_reference
    preds, _ = fid_sets()
    # Features of images quantised like PNGs, 299x299 bilinear inside the network.
    batch = torch.stack([to_uint8(x).float() / 255 for x in preds[:2]])
    with torch.no_grad():
        direct = fid_metric.network(batch).numpy()
    np.testing.assert_allclose(np.stack([r['pred'] for r in results[:2]]), direct, rtol=1e-4,
                               atol=1e-4)
    mu1, sigma1 = feature_statistics(np.stack([r['pred'] for r in results]))
    mu2, sigma2 = feature_statistics(np.stack([r['gt'] for r in results]))
    assert value > 0
    assert value == pytest.approx(frechet_distance(mu1, sigma1, mu2, sigma2), rel=1e-9)


def test_fid_blocks_differ_from_torchvision_blocks(inception_file, recwarn):
    """The FID file builds TensorFlow's pooling (padding left out of the mean, max pool in
    Mixed_7c); torchvision's file builds torchvision's blocks and warns."""
    constant = torch.ones(1, 2, 5, 5)
    assert torch.equal(_tf_avg_pool(constant), constant)  # borders not darkened by the padding
    fid_network = METRICS.build(dict(type='FID', weights=str(inception_file))).network
    assert isinstance(fid_network.Mixed_7c, FIDInceptionE)
    assert not [w for w in recwarn.list if 'not comparable' in str(w.message)]
    state = fake_inception_state_dict(seed=0, fid=False)
    path = inception_file.parent / 'inception_v3_google-fake.pth'
    torch.save(state, path)
    with pytest.warns(UserWarning, match='not comparable to published FIDs'):
        tv_network = METRICS.build(dict(type='FID', weights=str(path))).network
    assert not isinstance(tv_network.Mixed_7c, FIDInceptionE)
    same_weights = InceptionFeatures(fid_blocks=True)
    same_weights.load_state_dict(tv_network.state_dict())
    x = torch.rand(1, 3, 80, 80, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert not torch.allclose(same_weights(x), tv_network(x), rtol=1e-3)


def test_fid_wrong_files_name_the_file(tmp_path, lpips_file):
    with pytest.raises(WeightsFormatError, match=r"lpips_alex_combined\.pth.*'fc\.weight'"):
        METRICS.build(dict(type='FID', weights=str(lpips_file[0])))
    state = fake_inception_state_dict(seed=1)
    del state['Mixed_6b.branch7x7_2.conv.weight']
    torch.save(state, tmp_path / 'truncated.pth')
    with pytest.raises(WeightsFormatError, match=r'truncated\.pth lack Mixed_6b\.branch7x7_2'):
        METRICS.build(dict(type='FID', weights=str(tmp_path / 'truncated.pth')))


def test_fid_needs_two_images(fid_metric):
    fid_metric.process({}, [dict(pred_img=image_samples(5, 1)[0], gt=image_samples(6, 1)[0])])
    with pytest.raises(ValueError, match='at least 2 images'):
        fid_metric.evaluate(1)
    fid_metric.results.clear()  # evaluate() clears them only after a successful computation


DISTRIBUTED_SCRIPT = textwrap.dedent('''
    import json, os, sys
    import torch, torch.distributed as dist
    sys.path.insert(0, {tests!r})
    from test_lpips_fid import fid_sets
    from rf.registry import METRICS
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    preds, gts = fid_sets()
    metric = METRICS.build(dict(type='FID', weights={weights!r}))
    # The default sampler's interleaved shards: rank r gets samples r, r + 2, ...
    metric.process({{}}, [dict(pred_img=preds[i], gt=gts[i]) for i in range(rank, 4, 2)])
    result = metric.evaluate(4)
    if rank == 0:
        with open({out!r}, 'w') as handle:
            json.dump(result, handle)
    dist.destroy_process_group()
''')


def test_fid_in_two_process_distributed_evaluation(tmp_path, inception_file, fid_reference):
    """Each rank keeps its own samples' features; rank 0 scores the gathered whole set."""
    out = tmp_path / 'fid.json'
    script = tmp_path / 'dist_fid.py'
    script.write_text(DISTRIBUTED_SCRIPT.format(tests=str(REPO_ROOT / 'tests'),
                                                weights=str(inception_file), out=str(out)))
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    processes = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE='2', MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=str(port), OMP_NUM_THREADS='1')
        processes.append(subprocess.Popen([sys.executable, str(script)], env=env, cwd=REPO_ROOT,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    logs = [p.communicate(timeout=300)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), '\n'.join(logs)[-4000:]
    assert json.loads(out.read_text())['FID'] == pytest.approx(fid_reference[1], rel=1e-5)
