"""What a task is: how x̂0 and the network's condition come from a preprocessed batch.

``inputs`` is the dict the data preprocessor makes: ``degraded`` (B, C, H, W) in [-1, 1] when the
dataset has one, ``gt`` likewise when it has a ground truth, ``mask`` (B, 1, H, W) raw values when
the dataset gives one. Concrete tasks (restoration, generation, translation) are plugins.
"""
from typing import Dict, Optional, Tuple

import torch

Condition = Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]


class BaseTask:
    """Interface of a task; subclasses register in ``rf.registry.TASKS``."""

    def degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """x̂0, where the diffusion starts from (B, C, H, W) in [-1, 1]."""
        raise NotImplementedError(f'{type(self).__name__} must define degraded()')

    def condition(self, inputs: Dict[str, torch.Tensor]) -> Condition:
        """``(condition, mask)`` for the fuser; either may be None."""
        raise NotImplementedError(f'{type(self).__name__} must define condition()')

    def sampling_degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        """x̂0 that sampling starts from: :meth:`degraded` unless the task samples from
        something else (generation: zeros of its configured image shape)."""
        return self.degraded(inputs)

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
