"""LPIPS (Zhang et al. 2018) with the ``lpips`` package (AlexNet, v0.1), as the authors used it.

The network is the package's own ``lpips.LPIPS(net='alex', version='0.1')``: its v0.1 "lin"
weights ship in the package, and its AlexNet trunk is torchvision's ``alexnet-owt-7be5be79.pth``
from torch hub's cache, downloaded on first use (:mod:`rf.metrics.pretrained_weights`; an absent
file that cannot be downloaded stops the build with one error naming it).

Images are uint8 RGB mapped to [-1, 1] as ``x / 127.5 - 1`` (``lpips.im2tensor``). ``resize=256``
follows the authors' ``Measure_256_lpips.py``: both images go through ``cv2.resize(img, (256,
256))`` (bilinear) first; otherwise they are scored at their own size. Lower is better;
identical images score 0.
"""
import warnings
from typing import Optional, Sequence

import numpy as np
import torch

from rf.metrics.image_quality import COLLECT_DEVICE, ImageQualityMetric, to_uint8
from rf.metrics.pretrained_weights import ensure_hub_weights, loading_weights
from rf.registry import METRICS

__all__ = ['LPIPS', 'build_lpips_model', 'lpips_distance', 'ALEXNET_FILE', 'ALEXNET_URL']

ALEXNET_FILE = 'alexnet-owt-7be5be79.pth'  # torchvision's AlexNet_Weights.IMAGENET1K_V1
ALEXNET_URL = f'https://download.pytorch.org/models/{ALEXNET_FILE}'
MIN_SIZE = 31  # the smallest side for which AlexNet's conv5 still has one pixel


def build_lpips_model(device=None):
    """An eval-mode ``lpips.LPIPS(net='alex', version='0.1')`` without gradients, on ``device``.

    Raises :class:`~rf.metrics.pretrained_weights.MissingWeightsError` when the AlexNet file is
    not in torch hub's cache and cannot be downloaded.
    """
    path = ensure_hub_weights(ALEXNET_FILE, ALEXNET_URL, 'LPIPS', hash_prefix='7be5be79')
    import lpips
    with loading_weights(path, 'LPIPS'), warnings.catch_warnings():
        # lpips asks torchvision for `pretrained=True`, which torchvision warns is deprecated.
        warnings.filterwarnings('ignore', message=r".*('pretrained'|weight enum)",
                                category=UserWarning)
        model = lpips.LPIPS(net='alex', version='0.1', verbose=False)
    model.eval().requires_grad_(False)
    return model if device is None else model.to(device)


def _as_input(image: np.ndarray, device) -> torch.Tensor:
    # As lpips.im2tensor: x / 127.5 - 1 in float64, then float32, (1, 3, H, W).
    scaled = np.asarray(image, dtype=np.float64) / 127.5 - 1
    return torch.from_numpy(scaled.transpose(2, 0, 1)[None].copy()).to(device, torch.float32)


def lpips_distance(model, pred: np.ndarray, gt: np.ndarray, resize: Optional[int] = None) -> float:
    """LPIPS between two uint8 (H, W, 3) RGB arrays with ``model`` (:func:`build_lpips_model`).

    ``resize``: None (original size) or the side both images are resized to first with
    ``cv2.resize`` (bilinear), as the authors' ``Measure_256_lpips.py`` does with 256.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    for name, image in (('pred', pred), ('gt', gt)):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'lpips_distance: {name} must be a uint8 (H, W, 3) RGB array; got '
                             f'{image.dtype} {image.shape}.')
    if resize is not None:  # each image on its own, so their sizes may differ
        if isinstance(resize, bool) or not isinstance(resize, int) or resize < 1:
            raise ValueError(f'lpips_distance: resize must be None or a positive int; got '
                             f'{resize!r}.')
        import cv2
        pred, gt = cv2.resize(pred, (resize, resize)), cv2.resize(gt, (resize, resize))
    if pred.shape != gt.shape:
        raise ValueError(f'lpips_distance: pred {pred.shape} and gt {gt.shape} differ in shape.')
    if min(pred.shape[:2]) < MIN_SIZE:
        raise ValueError(f'LPIPS needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels (AlexNet '
                         f'conv5); got {pred.shape[0]}x{pred.shape[1]}.')
    device = next(model.parameters()).device
    with torch.no_grad():
        return float(model(_as_input(pred, device), _as_input(gt, device)).flatten()[0])


def _rgb_uint8(image: torch.Tensor) -> np.ndarray:
    """A (C, H, W) tensor (float in [0, 1] or uint8) as a uint8 (H, W, 3) array; grey repeated."""
    image = to_uint8(image) if image.is_floating_point() else image.cpu().to(torch.uint8)
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    if image.shape[0] != 3:
        raise ValueError(f'LPIPS needs RGB or grey images; got {image.shape[0]} channels.')
    return np.ascontiguousarray(image.permute(1, 2, 0).numpy())


@METRICS.register_module()
class LPIPS(ImageQualityMetric):
    """LPIPS (AlexNet, v0.1) of each image, averaged; key ``LPIPS``, lower is better.

    Args:
        resize: None (original resolution) or the side of the square both images are resized
            to with cv2 bilinear (the authors' 256 protocol): key ``LPIPS_256``.
        source: ``'pred'`` or ``'input'`` (the degraded input's own score, ``LPIPS_input``).
        device: where the network runs; None follows the predictions (GPU when they are there).

    Images are quantised to uint8 first (as a saved PNG would be); grey images are repeated to
    three channels. The weights come from torch hub's cache (see the module docstring).
    """

    name = 'LPIPS'

    def __init__(self, resize: Optional[int] = None, source: str = 'pred',
                 device: Optional[str] = None, collect_device: str = COLLECT_DEVICE,
                 prefix: Optional[str] = None) -> None:
        super().__init__(channel='rgb', resize=resize, source=source,
                         collect_device=collect_device, prefix=prefix)
        self.model = build_lpips_model()
        self.device = device

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        inputs = self._inputs(data_batch, len(data_samples)) if self.source == 'input' else None
        for i, sample in enumerate(data_samples):
            if 'gt' not in sample or (inputs is None and 'pred_img' not in sample):
                raise KeyError(f"LPIPS needs 'pred_img' and 'gt' in each data sample; got keys "
                               f'{sorted(sample)}.')
            image = sample['pred_img'] if inputs is None else inputs[i]
            self.model.to(torch.device(self.device) if self.device else image.device)
            pred, gt = _rgb_uint8(image), _rgb_uint8(sample['gt'])
            if pred.shape != gt.shape:
                raise ValueError(f'LPIPS: prediction {pred.shape[:2]} and ground truth '
                                 f'{gt.shape[:2]} differ in size.')
            self.results.append(lpips_distance(self.model, pred, gt, self.resize))
