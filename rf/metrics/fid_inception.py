"""The Inception-v3 feature extractor of FID: pool3 (2048-d) features, built from local weights.

Two weight files are accepted (``weights=`` or ``RF_INCEPTION_WEIGHTS``, never downloaded):

* pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``: the TensorFlow Inception that FID was
  defined with (1008-way ``fc``). It needs the "FID Inception" blocks: the average pools of
  Mixed_5b-5d, 6b-6e and 7b leave the zero padding out of the mean (TensorFlow's pooling), and
  Mixed_7c's pool branch is a 3x3 max pool. With this file scores are comparable to published FIDs.
* torchvision's ImageNet ``inception_v3_google-0cc3c7bd.pth`` (1000-way ``fc``): torchvision's
  own blocks. Scores computed with it are NOT comparable to published FIDs (they differ by about
  1-2 points); a warning says so.

The file is told apart by the size of its ``fc`` layer; ``fc`` and ``AuxLogits`` are not used.
Inputs are RGB in [0, 1], resized to 299x299 (bilinear, ``align_corners=False``, as pytorch-fid
does) and mapped to [-1, 1].
"""
import warnings
from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv_inception

from rf.metrics.pretrained_weights import (PathOrPaths, WeightsFormatError, check_shapes,
                                           read_state_dicts, resolve_weight_paths)

ENV_VAR = 'RF_INCEPTION_WEIGHTS'
EXPECTED_FILES = ("pytorch-fid's FID Inception 'pt_inception-2015-12-05-6726825d.pth' (from the "
                  "pytorch-fid release 'fid_weights'); torchvision's "
                  "'inception_v3_google-0cc3c7bd.pth' also works, with scores not comparable to "
                  'published FIDs')
FID_CLASSES = 1008  # the TensorFlow Inception's classifier: the mark of the FID weights
INPUT_SIZE = 299
FEATURE_DIM = 2048
LAYERS = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1', 'Conv2d_3b_1x1',
          'Conv2d_4a_3x3', 'maxpool2', 'Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b',
          'Mixed_6c', 'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c', 'avgpool')


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 average pool whose border means leave out the padding (TensorFlow's behaviour)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _max_pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class FIDInceptionA(tv_inception.InceptionA):
    """InceptionA with TensorFlow's average pool in the pool branch."""

    def _forward(self, x):
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return [self.branch1x1(x), branch5x5, branch3x3dbl, self.branch_pool(_tf_avg_pool(x))]


class FIDInceptionC(tv_inception.InceptionC):
    """InceptionC with TensorFlow's average pool in the pool branch."""

    def _forward(self, x):
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = layer(branch7x7dbl)
        return [self.branch1x1(x), branch7x7, branch7x7dbl, self.branch_pool(_tf_avg_pool(x))]


class FIDInceptionE(tv_inception.InceptionE):
    """InceptionE with a configurable pool branch: TensorFlow's average pool (Mixed_7b) or a
    3x3 max pool (Mixed_7c, as in the graph FID was defined with)."""

    def __init__(self, in_channels: int, pool=_tf_avg_pool) -> None:
        super().__init__(in_channels)
        self.pool = pool

    def _forward(self, x):
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(branch3x3dbl),
                                  self.branch3x3dbl_3b(branch3x3dbl)], 1)
        return [self.branch1x1(x), branch3x3, branch3x3dbl, self.branch_pool(self.pool(x))]


class InceptionFeatures(nn.Module):
    """Inception-v3 up to the global average pool: (N, 3, H, W) in [0, 1] -> (N, 2048).

    ``fid_blocks=True`` builds the FID Inception (pytorch-fid's weights); False torchvision's.
    Parameter names are torchvision's, so both files load directly.
    """

    def __init__(self, fid_blocks: bool = True) -> None:
        super().__init__()
        base = tv_inception.Inception3(num_classes=FID_CLASSES, aux_logits=False,
                                       transform_input=False, init_weights=False)
        if fid_blocks:
            base.Mixed_5b = FIDInceptionA(192, pool_features=32)
            base.Mixed_5c = FIDInceptionA(256, pool_features=64)
            base.Mixed_5d = FIDInceptionA(288, pool_features=64)
            base.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
            base.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
            base.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
            base.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
            base.Mixed_7b = FIDInceptionE(1280)
            base.Mixed_7c = FIDInceptionE(2048, pool=_max_pool)
        self.fid_blocks = fid_blocks
        for name in LAYERS:
            self.add_module(name, getattr(base, name))
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def resize(images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 3, 299, 299), bilinear as pytorch-fid (a no-op at 299x299)."""
        if tuple(images.shape[-2:]) == (INPUT_SIZE, INPUT_SIZE):
            return images
        return F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode='bilinear',
                             align_corners=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = 2 * self.resize(images) - 1
        for name in LAYERS:
            x = getattr(self, name)(x)
        return x.flatten(1)


def _is_fid_file(found: Dict[str, torch.Tensor], paths) -> bool:
    fc = found.get('fc.weight')
    if fc is None:
        raise WeightsFormatError(f"FID: the weights in {', '.join(paths)} have no 'fc.weight': "
                                 'not an Inception-v3 state dict. '
                                 f'Expected: {EXPECTED_FILES}.')
    return fc.shape[0] == FID_CLASSES


def load_inception(weights: PathOrPaths = None) -> InceptionFeatures:
    """:class:`InceptionFeatures` with the weights of ``weights`` (or ``$RF_INCEPTION_WEIGHTS``)."""
    paths, _ = resolve_weight_paths(weights, ENV_VAR, 'FID', EXPECTED_FILES,
                                    '/weights/pt_inception-2015-12-05-6726825d.pth')
    found, origin = read_state_dicts(paths, 'FID')
    fid_blocks = _is_fid_file(found, paths)
    if not fid_blocks:
        warnings.warn(f"FID: {', '.join(paths)} is not pytorch-fid's FID Inception (its fc has "
                      f"{found['fc.weight'].shape[0]} classes, not {FID_CLASSES}); the scores are "
                      'not comparable to published FIDs.', stacklevel=2)
    network = InceptionFeatures(fid_blocks)
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()
                if not k.endswith('num_batches_tracked')}
    check_shapes(found, expected, origin, 'FID', paths, f'Expected: {EXPECTED_FILES}.')
    state = {k: found[k].float() for k in expected}
    state.update({k: v for k, v in network.state_dict().items()
                  if k.endswith('num_batches_tracked')})
    network.load_state_dict(state)
    return network
