"""One protocol plus LPIPS where its script reports LPIPS: the scoring shared by
``tools/score.py`` and :class:`rf.metrics.ProtocolMetric`.

LPIPS needs pretrained weights (the torch hub cache, see ``docs/pretrained_weights.md``).
``lpips='auto'`` scores it when they are there and otherwise skips it with one warning line;
``True`` makes missing weights an error; ``False`` never computes it.
"""
import logging
from typing import Callable, Dict, List, Optional, Union

import numpy as np

from rf.metrics.protocols.base import EvalProtocol, build_protocol

LPIPS_MODES = (True, False, 'auto')


def log_warning(message: str) -> None:
    from mmengine.logging import print_log
    print_log(message, logger='current', level=logging.WARNING)


class ProtocolScorer:
    """Per-image scores and the summary of one protocol, with LPIPS added when wanted."""

    def __init__(self, protocol: Union[str, dict, EvalProtocol], lpips: Union[bool, str] = 'auto',
                 device: Optional[str] = None,
                 warn: Callable[[str], None] = log_warning) -> None:
        if lpips not in LPIPS_MODES:
            raise ValueError(f"lpips must be True, False or 'auto', got {lpips!r}.")
        self.protocol = build_protocol(protocol)
        self.lpips_mode = lpips if self.protocol.has_lpips else False
        self.device = device
        self.warn = warn
        self._lpips_model = None

    @property
    def name(self) -> str:
        return self.protocol.name

    def _lpips(self):
        """The LPIPS network, or None once 'auto' found no weights (warned once)."""
        if self.lpips_mode is False:
            return None
        if self._lpips_model is None:
            from rf.metrics.lpips import build_lpips_model
            from rf.metrics.pretrained_weights import MissingWeightsError
            try:
                self._lpips_model = build_lpips_model(self.device)
            except MissingWeightsError as error:
                if self.lpips_mode is True:
                    raise
                self.warn(f'{self.name}: LPIPS skipped, the other scores are complete. {error}')
                self.lpips_mode = False
                return None
        return self._lpips_model

    def score(self, pred: np.ndarray, gt: np.ndarray,
              mask: Optional[np.ndarray] = None) -> Dict[str, float]:
        """The protocol's scores of one uint8 RGB pair (and LPIPS)."""
        scores = self.protocol.score(pred, gt, mask)
        model = self._lpips()
        if model is not None:
            from rf.metrics.lpips import lpips_distance
            scores['LPIPS'] = lpips_distance(model, self.protocol.lpips_input(pred, gt), gt,
                                             resize=self.protocol.lpips_resize)
        return scores

    def summarize(self, per_image: List[Dict[str, float]]) -> Dict[str, float]:
        return self.protocol.summarize(per_image)
