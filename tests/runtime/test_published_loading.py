"""Published weights load wherever a checkpoint does: rf's loader, check_weights, MMEngine's
load_from scheme, and hf://OWNER/REPO[/FILE] from a Hugging Face cache prepared by hand
(HF_HUB_OFFLINE, no network)."""
import pytest
import torch
from published_models import fill_hub_cache, tiny_config, tiny_weights

from rf.checkpoint import CheckpointError, load_checkpoint_file, resolve_checkpoint_path
from rf.inference import check_weights, init_model
from rf.zoo.hub import parse_hub_path
from rf.zoo.safetensors_io import safetensors_bytes


@pytest.fixture(scope='module')
def published(tmp_path_factory):
    """A .safetensors file of the tiny model's weights (and the weights)."""
    cfg = tiny_config()
    weights = tiny_weights(cfg, seed=5)
    path = tmp_path_factory.mktemp('published') / 'tiny_0000abcd.safetensors'
    path.write_bytes(safetensors_bytes(weights, {'format': 'pt'}))
    return path, weights


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """HF_HOME/HF_HUB_CACHE in tmp_path and offline mode, for this process's huggingface_hub
    (which reads both when it is imported) as for a fresh one."""
    from huggingface_hub import constants
    cache = tmp_path / 'hf' / 'hub'
    cache.mkdir(parents=True)
    monkeypatch.setenv('HF_HOME', str(tmp_path / 'hf'))
    monkeypatch.setenv('HF_HUB_CACHE', str(cache))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)
    return cache


def test_safetensors_loads_as_a_weights_only_checkpoint(published):
    path, weights = published
    checkpoint = load_checkpoint_file(str(path))
    assert checkpoint['meta'] == {'format': 'pt'}
    assert all(torch.equal(checkpoint['state_dict'][k], weights[k]) for k in weights)
    with pytest.raises(CheckpointError, match='holds only weights'):
        checkpoint['optimizer']
    with pytest.raises(CheckpointError, match='not resume'):
        checkpoint['meta']['epoch']


def test_safetensors_is_recognised_by_its_content(published, tmp_path):
    renamed = tmp_path / 'weights.bin'
    renamed.write_bytes(published[0].read_bytes())
    assert load_checkpoint_file(str(renamed))['state_dict'].keys() == published[1].keys()


def test_init_model_and_check_weights_take_safetensors(published):
    path, weights = published
    model = init_model(tiny_config(), str(path))
    assert all(torch.equal(model.state_dict()[k], weights[k]) for k in weights)
    other = tiny_config()
    other.model.backbone.dim = 16
    with pytest.raises(CheckpointError, match='does not match'):
        check_weights(init_model(other), str(path))


def test_truncated_safetensors_is_one_clear_error(published, tmp_path):
    broken = tmp_path / 'broken.safetensors'
    broken.write_bytes(published[0].read_bytes()[:500])
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        load_checkpoint_file(str(broken))


def test_mmengine_load_from_reads_safetensors(published):
    from mmengine.runner.checkpoint import CheckpointLoader

    import rf.engine  # noqa: F401 - installs rf's loader, as every rf runner does
    checkpoint = CheckpointLoader.load_checkpoint(str(published[0]), map_location='cpu')
    assert checkpoint['state_dict'].keys() == published[1].keys()


def test_hub_path_resolves_from_the_cache_offline(published, offline_cache):
    fill_hub_cache(offline_cache, 'acme/tiny', {published[0].name: published[0],
                                                'config.py': published[0]})
    for spec in ('hf://acme/tiny', f'hf://acme/tiny/{published[0].name}'):
        local = resolve_checkpoint_path(spec)
        assert local.startswith(str(offline_cache)) and local.endswith(published[0].name)
        assert load_checkpoint_file(spec)['state_dict'].keys() == published[1].keys()
    from mmengine.runner.checkpoint import CheckpointLoader

    import rf.engine  # noqa: F401
    assert CheckpointLoader.load_checkpoint('hf://acme/tiny')['state_dict'].keys() == \
        published[1].keys()


def test_hub_path_offline_errors_say_how_to_fill_the_cache(published, offline_cache):
    fill_hub_cache(offline_cache, 'acme/tiny', {published[0].name: published[0]})
    with pytest.raises(CheckpointError, match='offline') as missing_file:
        load_checkpoint_file('hf://acme/tiny/other.safetensors')
    assert 'hf download acme/tiny other.safetensors' in str(missing_file.value)
    assert str(offline_cache) in str(missing_file.value)
    with pytest.raises(CheckpointError, match='hf download acme/absent'):
        load_checkpoint_file('hf://acme/absent')
    assert '\n' not in str(missing_file.value)


def test_hub_repo_with_several_weights_names_the_candidates(published, offline_cache):
    fill_hub_cache(offline_cache, 'acme/two', {'a.safetensors': published[0],
                                               'b.safetensors': published[0]})
    with pytest.raises(CheckpointError, match=r'several .safetensors.*a\.safetensors, '
                                              r'b\.safetensors'):
        load_checkpoint_file('hf://acme/two')


def test_hub_path_parsing():
    assert parse_hub_path('hf://acme/tiny') == ('acme/tiny', None, None)
    assert parse_hub_path('hf://acme/tiny@v1/sub/w.safetensors') == \
        ('acme/tiny', 'sub/w.safetensors', 'v1')
    with pytest.raises(CheckpointError, match='expected hf://OWNER/REPO'):
        parse_hub_path('hf://acme')
