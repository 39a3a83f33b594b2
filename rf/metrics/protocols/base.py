"""What an evaluation protocol is, and the helpers every protocol shares.

A protocol reproduces one evaluation script of the paper's authors. It scores one pair of
uint8 RGB images (H, W, 3) (and an (H, W) mask where it needs one) into a dict of numbers, and
summarises a list of those dicts into the numbers the script prints. The same object serves
``tools/score.py`` (folders of PNGs) and :class:`rf.metrics.ProtocolMetric` (training and
testing), so both give the same numbers for the same images.

Per-image keys that start with ``_`` are bookkeeping for the summary (pooled sums), not printed.
"""
import math
from typing import Dict, List, Optional, Union

import numpy as np

QUANTIZE_MODES = ('floor', 'round')


class UnknownProtocolError(ValueError):
    """No protocol of that name is registered."""
    rf_user_error = True


class EvalProtocol:
    """Base class: subclasses set the class attributes and implement :meth:`compute`."""

    name = ''
    follows = ''  # the authors' script reproduced
    needs_mask = False
    lpips_resize: Optional[int] = None  # side LPIPS images are resized to (cv2 bilinear)
    has_lpips = False  # whether the script reports LPIPS
    same_size = True  # whether prediction and ground truth must have one size

    def score(self, pred: np.ndarray, gt: np.ndarray,
              mask: Optional[np.ndarray] = None) -> Dict[str, float]:
        """Check the pair (and mask), then :meth:`compute` its scores."""
        mask = self.prepare_mask(mask)
        self.check_pair(pred, gt, mask)
        return self.compute(pred, gt, mask)

    def prepare_mask(self, mask: Optional[np.ndarray]) -> Optional[np.ndarray]:
        """The mask as :meth:`compute` takes it (unchanged by default)."""
        return mask

    def compute(self, pred: np.ndarray, gt: np.ndarray,
                mask: Optional[np.ndarray]) -> Dict[str, float]:
        raise NotImplementedError

    def lpips_input(self, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
        """The prediction LPIPS compares with the ground truth (before any LPIPS resize)."""
        return pred

    def summarize(self, per_image: List[Dict[str, float]]) -> Dict[str, float]:
        """The mean of every public key over the images (nan entries left out)."""
        keys = [k for k in (per_image[0] if per_image else {}) if not k.startswith('_')]
        return {k: nanmean([r[k] for r in per_image]) for k in keys}

    def check_pair(self, pred: np.ndarray, gt: np.ndarray, mask: Optional[np.ndarray]) -> None:
        for what, image in (('prediction', pred), ('ground truth', gt)):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f'{self.name}: the {what} must be an (H, W, 3) uint8 RGB image, '
                                 f'got {image.shape} {image.dtype}.')
        if self.same_size and pred.shape != gt.shape:
            raise ValueError(f'{self.name}: prediction {pred.shape[:2]} and ground truth '
                             f'{gt.shape[:2]} differ in size.')
        if self.needs_mask:
            if mask is None:
                raise ValueError(f'{self.name} needs the shadow mask of every image '
                                 '(tools/score.py --mask-dir DIR).')
            if mask.shape != gt.shape[:2]:
                raise ValueError(f'{self.name}: the mask {mask.shape} and the ground truth '
                                 f'{gt.shape[:2]} differ in size.')


def nanmean(values) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else math.nan


def quantize(image, mode: str = 'floor') -> np.ndarray:
    """A float image in [0, 1] -> uint8 (H, W, C) as a saved PNG holds it.

    ``'floor'``: ``uint8(clip(x·255, 0, 255))`` in float32, the truncation the authors' images
    went through (TensorBoard's image encoding); ``'round'``: rounded to the nearest value.
    Accepts a (C, H, W) torch tensor or an (H, W, C) array; uint8 input is returned as it is.
    """
    if mode not in QUANTIZE_MODES:
        raise ValueError(f'quantize must be one of {QUANTIZE_MODES}, got {mode!r}.')
    if hasattr(image, 'detach'):  # a torch tensor, (C, H, W)
        image = image.detach().cpu()
        image = image.permute(1, 2, 0).numpy() if image.dim() == 3 else image.numpy()
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    scaled = np.clip(array.astype(np.float32) * np.float32(255), 0, 255)
    return (np.floor(scaled) if mode == 'floor' else np.floor(scaled + 0.5)).astype(np.uint8)


def build_protocol(spec: Union[str, dict, EvalProtocol]) -> EvalProtocol:
    """A protocol from its name (``'lol_256'``), a config dict (``dict(type='istd',
    lab_white='d65')``) or an instance; an unknown name lists the registered ones."""
    if isinstance(spec, EvalProtocol):
        return spec
    from rf.registry import EVAL_PROTOCOLS
    cfg = dict(type=spec) if isinstance(spec, str) else dict(spec)
    name = cfg.get('type')
    if EVAL_PROTOCOLS.get(name) is None:
        known = ', '.join(sorted(EVAL_PROTOCOLS.module_dict))
        raise UnknownProtocolError(f'Unknown evaluation protocol {name!r}; registered protocols: {known}.')
    return EVAL_PROTOCOLS.build(cfg)


def protocol_names() -> List[str]:
    from rf.registry import EVAL_PROTOCOLS
    EVAL_PROTOCOLS.import_from_location()
    return sorted(EVAL_PROTOCOLS.module_dict)
