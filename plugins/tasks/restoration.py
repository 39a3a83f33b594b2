"""First-party plugin: the ``restoration`` task (x̂0 = the degraded image, which is also the condition)."""
from typing import Dict

import torch

from rf.plugins import hookimpl
from rf.tasks import BaseTask, Condition


class RestorationTask(BaseTask):
    """Restoration: start from the degraded image and condition on it (plus the mask, if any)."""

    def degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        if inputs.get('degraded') is None:
            raise KeyError("The restoration task needs the degraded image: the batch has no "
                           "'degraded' input (check the dataset's pipeline).")
        return inputs['degraded']

    def condition(self, inputs: Dict[str, torch.Tensor]) -> Condition:
        return self.degraded(inputs), inputs.get('mask')


@hookimpl
def rf_register_modules(registry):
    registry.TASKS.register_module(name='restoration', module=RestorationTask)
