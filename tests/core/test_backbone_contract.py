"""rf.testing.check_backbone: the backbone contract that every first-party backbone keeps and a
plugin author's test can call (any size, step sensitivity per sample, clear channel error,
gradients), and that it catches backbones breaking each part."""
import pytest
from torch import nn

from rf.registry import MODELS
from rf.testing import check_backbone

FIRST_PARTY = [
    ('ResfusionUNet', dict(dim=8, dim_mults=(1, 2), groups=4), ((13, 22), (16, 16))),
    # DDPM's network does not pad: it takes multiples of its stride and refuses others itself.
    ('DDIMUNet', dict(ch=8, ch_mult=(1, 2), norm_groups=4, dropout=0.0), ((16, 24), (32, 32))),
    # Three timm families: BatchNorm ResNet (stride-2 stem), ConvNeXt (LayerNorm, stride-4 stem,
    # four levels), MobileNetV3 (depthwise, odd widths such as 8 and 288).
    *[('TimmUNet', dict(encoder=encoder, dim=8), ((37, 45), (32, 32)))
      for encoder in ('resnet18', 'convnext_atto', 'mobilenetv3_small_050')],
]


@pytest.mark.parametrize('name,kwargs,sizes', FIRST_PARTY,
                         ids=[f'{f[0]}-{f[1].get("encoder", "")}'.rstrip('-')
                              for f in FIRST_PARTY])
def test_first_party_backbones_keep_the_contract(name, kwargs, sizes):
    net = check_backbone(MODELS.get(name), sizes=sizes, **kwargs)
    assert type(net).__name__ == name


class Tiny(nn.Module):
    """A backbone keeping the contract; ``flaw`` breaks one part of it."""

    def __init__(self, in_channels=6, out_channels=3, flaw=None):
        super().__init__()
        self.in_channels, self.flaw = in_channels, flaw
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Embedding(10, out_channels)
        self.spare = nn.Linear(2, 2)  # used unless flaw == 'unused'

    def forward(self, x, t):
        if self.flaw == 'silent':
            x = x[:, :self.in_channels]  # extra channels dropped without a word
        elif x.shape[1] != self.in_channels:
            raise ValueError(f'Tiny expects {self.in_channels} input channels')
        out = self.conv(x)
        if self.flaw == 'crop':
            out = out[..., :-1, :]
        if self.flaw != 'no_time':
            step = t[:1].expand_as(t) if self.flaw == 'first_step' else t
            out = out + self.time(step)[:, :, None, None]
        if self.flaw != 'unused':
            out = out + 0 * (self.spare.weight.sum() + self.spare.bias.sum())
        return out


def test_a_backbone_keeping_the_contract_passes():
    check_backbone(Tiny)


@pytest.mark.parametrize('flaw,message', [
    ('crop', 'expected \\(2, 3, 13, 22\\)'),
    ('no_time', 'same output'),
    ('first_step', 'own step'),
    ('silent', 'was accepted'),
    ('unused', "no gradient reaches \\['spare.weight', 'spare.bias'\\]"),
])
def test_each_broken_part_is_named(flaw, message):
    with pytest.raises(AssertionError, match=message):
        check_backbone(Tiny, flaw=flaw)


def test_parameters_declared_unused_are_allowed():
    check_backbone(Tiny, flaw='unused', unused_parameters=('spare.weight', 'spare.bias'))


def test_a_channel_error_must_name_the_expected_channels():
    class Vague(Tiny):
        def forward(self, x, t):
            if x.shape[1] != self.in_channels:
                raise ValueError('bad input')
            return super().forward(x, t)
    with pytest.raises(AssertionError, match='does not name the expected 6 channels'):
        check_backbone(Vague)
    with pytest.raises(AssertionError, match='raised RuntimeError'):
        check_backbone(_RuntimeFailing)


class _RuntimeFailing(Tiny):
    def forward(self, x, t):
        if x.shape[1] != self.in_channels:
            return self.conv(x)  # torch's own RuntimeError, no message for users
        return super().forward(x, t)
