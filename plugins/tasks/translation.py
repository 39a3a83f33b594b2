"""First-party plugin: the ``translation`` task (image-to-image between two unpaired domains).

docs/design.md §1.5: x̂0 is an image of the source domain (e.g. a dog), x0 an image of the target domain
(a cat) paired with it at random, and the network gets no condition: the translated image is not
fed to it, so the fused input is ``x_t`` alone (3 channels with the ``concat`` fuser). The
diffusion starts from the source image (``(1 - √ᾱ_T')·x̂0 + √(1-ᾱ_T')·ε``) and learns to end in
the target domain.

The batch is a restoration batch: ``'degraded'`` holds the source images and ``'gt'`` the
target images (see :class:`rf_plugins.datasets.unpaired_domains.UnpairedDomainsDataset`, which
draws the random pairing), so training, sampling and the data preprocessor are the restoration
code path with the condition left out.
"""
from typing import Dict

import torch

from rf.plugins import hookimpl
from rf.tasks import BaseTask, Condition


class TranslationTask(BaseTask):
    """Translation: start from the source-domain image; the network sees no condition."""

    def degraded(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        if inputs.get('degraded') is None:
            raise KeyError("The translation task needs the source-domain image: the batch has no "
                           "'degraded' input (the dataset puts the source image there, e.g. "
                           'UnpairedDomainsDataset with LoadRestorationImages).')
        return inputs['degraded']

    def condition(self, inputs: Dict[str, torch.Tensor]) -> Condition:
        return None, None


@hookimpl
def rf_register_modules(registry):
    registry.TASKS.register_module(name='translation', module=TranslationTask)
