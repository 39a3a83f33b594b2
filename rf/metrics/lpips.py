"""LPIPS (Zhang et al. 2018), AlexNet trunk, "lin" calibration, version 0.1, as an MMEngine metric.

``d(x0, x1) = Σ_l mean_{h,w} Σ_c w_{l,c} (x̂0_l - x̂1_l)²_{c,h,w}``, where the inputs in [-1, 1] go
through the scaling layer ``(x - shift) / scale`` (shift = (-.030, -.088, -.188), scale =
(.458, .448, .450)) and torchvision's AlexNet ``features``; ``x̂_l`` is the output of the l-th ReLU
(conv1 … conv5) divided per pixel by its channel norm (+1e-10), and ``w_l ≥ 0`` the learned 1x1
"lin" weights. Lower is better; identical images score 0.

Weights (never downloaded; ``weights=`` or the environment variable ``RF_LPIPS_WEIGHTS``, one
path or several whose tensors are merged) may be any mix of:

* the official ``lpips`` package's ``lpips/weights/v0.1/alex.pth`` — keys ``lin0.model.1.weight``
  … ``lin4.model.1.weight`` (``lins.N.model.1.weight`` is accepted too);
* torchvision's ImageNet AlexNet, ``alexnet-owt-7be5be79.pth`` (``features.N.weight/bias``;
  ``classifier.*`` is ignored), which is the trunk the lpips package uses;
* the state dict of a whole ``lpips.LPIPS(net='alex')`` module (``net.sliceK.N.*`` and
  ``linN.model.1.*``; ``scaling_layer.*`` is ignored), or one combined file of the above
  (what ``tests/metric_weights.py`` writes).
"""
import os
import re
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from rf.metrics.image_quality import ImageQualityMetric
from rf.metrics.pretrained_weights import (PathOrPaths, WeightsFormatError, check_shapes,
                                           read_state_dicts, resolve_weight_paths)
from rf.registry import METRICS

__all__ = ['AlexLPIPS', 'LPIPS', 'load_lpips_network', 'ENV_VAR']

ENV_VAR = 'RF_LPIPS_WEIGHTS'
EXPECTED_FILES = ("the lpips package's v0.1 'alex.pth' (lpips/weights/v0.1/alex.pth) together "
                  "with torchvision's AlexNet 'alexnet-owt-7be5be79.pth' (two paths), or one file "
                  'holding both')
EXAMPLE = f'/weights/alex.pth{os.pathsep}/weights/alexnet-owt-7be5be79.pth'
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
RELU_INDICES = (1, 4, 7, 9, 11)  # the ReLUs after conv1 ... conv5 in AlexNet's `features`
CHANNELS = (64, 192, 384, 256, 256)
MIN_SIZE = 31  # the smallest side for which conv5 still has one pixel
EPS = 1e-10

_FEATURE_KEY = re.compile(r'^(?:features|net\.slice\d)\.(\d+)\.(weight|bias)$')
_LIN_KEY = re.compile(r'^lins?\.?(\d)\.model\.\d\.weight$')


class AlexLPIPS(nn.Module):
    """The LPIPS network: scaling layer, AlexNet conv1-conv5 (with ReLUs), lin weights."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import alexnet
        self.features = alexnet(weights=None).features[:RELU_INDICES[-1] + 1]
        self.register_buffer('shift', torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor(SCALE).view(1, 3, 1, 1))
        for i, channels in enumerate(CHANNELS):
            self.register_buffer(f'lin{i}', torch.zeros(1, channels, 1, 1))
        self.requires_grad_(False)
        self.eval()

    def lin_weights(self) -> List[torch.Tensor]:
        return [getattr(self, f'lin{i}') for i in range(len(CHANNELS))]

    def relu_outputs(self, x: torch.Tensor) -> List[torch.Tensor]:
        """The five ReLU outputs of the scaled input ``x`` in [-1, 1]."""
        h = (x - self.shift) / self.scale
        outputs = []
        for index, layer in enumerate(self.features):
            h = layer(h)
            if index in RELU_INDICES:
                outputs.append(h)
        return outputs

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """LPIPS between two (N, 3, H, W) batches in [-1, 1]: one distance per pair, (N,)."""
        if min(x0.shape[-2:]) < MIN_SIZE:
            raise ValueError(f'LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels '
                             f'(AlexNet conv5); got {tuple(x0.shape[-2:])}.')
        total = x0.new_zeros(x0.shape[0])
        for f0, f1, lin in zip(self.relu_outputs(x0), self.relu_outputs(x1), self.lin_weights()):
            n0 = f0 / (f0.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            n1 = f1 / (f1.pow(2).sum(dim=1, keepdim=True).sqrt() + EPS)
            total = total + F.conv2d((n0 - n1).pow(2), lin).mean(dim=(1, 2, 3))
        return total


def _normalised_keys(found: Dict[str, torch.Tensor], origin: Dict[str, str]):
    """The accepted keys renamed to ``features.N.*`` / ``linN`` (other keys are ignored)."""
    tensors, sources = {}, {}
    for key, value in found.items():
        feature, lin = _FEATURE_KEY.match(key), _LIN_KEY.match(key)
        if feature:
            name = f'features.{feature.group(1)}.{feature.group(2)}'
        elif lin:
            name = f'lin{lin.group(1)}'
        else:
            continue
        tensors[name], sources[name] = value.float(), origin[key]
    return tensors, sources


def load_lpips_network(weights: PathOrPaths = None) -> AlexLPIPS:
    """An :class:`AlexLPIPS` with the weights of ``weights`` (or ``$RF_LPIPS_WEIGHTS``)."""
    paths, _ = resolve_weight_paths(weights, ENV_VAR, 'LPIPS', EXPECTED_FILES, EXAMPLE)
    found, origin = read_state_dicts(paths, 'LPIPS')
    tensors, sources = _normalised_keys(found, origin)
    network = AlexLPIPS()
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()
                if k not in ('shift', 'scale')}
    has_lin = any(k.startswith('lin') for k in tensors)
    has_trunk = any(k.startswith('features.') for k in tensors)
    advice = ("Add torchvision's AlexNet weights (alexnet-owt-7be5be79.pth) as a second path."
              if has_lin and not has_trunk else
              "Add the lpips package's v0.1 alex.pth as a second path." if has_trunk and not has_lin
              else f'Expected: {EXPECTED_FILES}.')
    check_shapes(tensors, expected, sources, 'LPIPS', paths, advice)
    for i in range(len(CHANNELS)):
        if (tensors[f'lin{i}'] < 0).any():
            raise WeightsFormatError(f'LPIPS: the lin{i} weights in {sources[f"lin{i}"]} are '
                                     'negative somewhere; LPIPS lin weights are non-negative '
                                     '(not an LPIPS v0.1 file?).')
    network.load_state_dict({**tensors, 'shift': network.shift, 'scale': network.scale})
    return network


@METRICS.register_module()
class LPIPS(ImageQualityMetric):
    """Learned perceptual image patch similarity (AlexNet, v0.1); key ``LPIPS``, lower is better.

    Args:
        weights: path(s) of the weight files (see the module docstring); None reads
            ``RF_LPIPS_WEIGHTS``. Missing files stop the build with one clear error.
        resize: None (original resolution) or the side of the square both images are resized to
            (bicubic, after quantising to uint8, as PSNR/SSIM do): key ``LPIPS_256``.
        source: ``'pred'`` or ``'input'`` (the degraded input's own score, ``LPIPS_input``).
        device: where the network runs; None follows the predictions (GPU when they are there).

    Images are quantised to uint8 first (as a saved PNG would be) and mapped to [-1, 1];
    grey images are repeated to three channels. Each image's distance is averaged.
    """

    name = 'LPIPS'

    def __init__(self, weights: PathOrPaths = None, resize: Optional[int] = None,
                 source: str = 'pred', device: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(channel='rgb', resize=resize, source=source,
                         collect_device=collect_device, prefix=prefix)
        self.network = load_lpips_network(weights)
        self.device = device

    @staticmethod
    def _as_input(image: torch.Tensor, device) -> torch.Tensor:
        image = image.to(device=device, dtype=torch.float32)
        if image.shape[0] == 1:
            image = image.expand(3, -1, -1)
        if image.shape[0] != 3:
            raise ValueError(f'LPIPS needs RGB or grey images; got {image.shape[0]} channels.')
        return (image / 255 * 2 - 1).unsqueeze(0)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        inputs = self._inputs(data_batch, len(data_samples)) if self.source == 'input' else None
        for i, sample in enumerate(data_samples):
            if 'gt' not in sample or (inputs is None and 'pred_img' not in sample):
                raise KeyError(f"LPIPS needs 'pred_img' and 'gt' in each data sample; got keys "
                               f'{sorted(sample)}.')
            image = sample['pred_img'] if inputs is None else inputs[i]
            device = torch.device(self.device) if self.device else image.device
            pred, gt = self.prepare(image, sample['gt'])
            self.network.to(device)
            with torch.no_grad():
                distance = self.network(self._as_input(pred, device), self._as_input(gt, device))
            self.results.append(float(distance[0]))

