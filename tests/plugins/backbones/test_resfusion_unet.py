"""The paper's U-Net: the authors' keys, the golden output, the true parameter count."""
import pytest
import torch

from rf.registry import MODELS


def build(**kwargs):
    return MODELS.build(dict(type='ResfusionUNet', **kwargs))


def test_state_dict_is_the_authors(reference_file):
    rows = reference_file('paper_unet_state_dict.tsv').read_text().splitlines()[1:]
    reference = [(key, tuple(int(n) for n in shape.split('x')))
                 for key, shape in (row.split('\t') for row in rows)]
    ours = [(key, tuple(value.shape)) for key, value in build(dim=64, in_channels=6).state_dict().items()]
    assert ours == reference  # same keys, same shapes, same order


def test_parameter_count_at_dim_64():
    net = build(dim=64, in_channels=6)
    assert sum(p.numel() for p in net.parameters()) == 36_261_187


def test_golden_output(reference_file):
    golden = torch.load(reference_file('paper_unet_golden_dim16.pt'), weights_only=True)
    cfg = golden['config']
    net = build(dim=cfg['dim'], dim_mults=tuple(cfg['dim_mults']), groups=cfg['groups'],
                in_channels=cfg['in_channels'] + cfg['cond_channels'] + cfg['mask_channels'])
    net.load_state_dict(golden['state_dict'], strict=True)
    net.eval()
    with torch.no_grad():
        out = net(torch.cat([golden['x'], golden['cond']], dim=1), golden['time'])
    rel = ((out - golden['output']).norm() / golden['output'].norm()).item()
    assert rel < 1e-4


@pytest.fixture(scope='module')
def small_net():
    torch.manual_seed(0)
    return build(dim=8, dim_mults=(1, 2), in_channels=8, out_channels=3, groups=4).eval()


def test_any_size_is_padded_and_cropped(small_net):
    x = torch.randn(2, 8, 13, 10)
    with torch.no_grad():
        out = small_net(x, torch.tensor([0, 3]))
        assert out.shape == (2, 3, 13, 10)
        # Reflect padding then cropping: the same as padding by hand.
        padded = torch.nn.functional.pad(x, (0, 0, 0, 1), mode='reflect')
        torch.testing.assert_close(out, small_net(padded, torch.tensor([0, 3]))[..., :13, :10])


def test_a_scalar_time_broadcasts(small_net):
    """The rest of the backbone contract (step per sample, channel error, gradients to every
    parameter) is tests/core/test_backbone_contract.py's."""
    x = torch.randn(2, 8, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(small_net(x, torch.tensor(4)),
                                   small_net(x, torch.tensor([4, 4])))


def test_the_channel_error_names_the_shape_expected(small_net):
    with pytest.raises(ValueError, match=r'expects \(B, 8, H, W\)'):
        small_net(torch.randn(1, 6, 8, 8), torch.tensor([0]))
