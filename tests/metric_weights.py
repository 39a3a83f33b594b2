"""Randomly initialised weight files in the formats the LPIPS and FID metrics accept, for tests.

The real pretrained files cannot be downloaded here; these have the same keys and shapes, so the
loading and computing code paths run for real. Point a metric at one with ``weights=PATH`` or the
environment variables ``RF_LPIPS_WEIGHTS`` / ``RF_INCEPTION_WEIGHTS``.
"""
import torch
from torch import nn

from rf.metrics.fid_inception import InceptionFeatures
from rf.metrics.lpips import CHANNELS, AlexLPIPS


def fake_lpips_state_dicts(seed: int = 0):
    """``(lin, trunk)``: an lpips ``alex.pth``-style dict (``linN.model.1.weight``, non-negative)
    and a torchvision-AlexNet-style dict (``features.N.weight/bias``), randomly initialised."""
    generator = torch.Generator().manual_seed(seed)
    trunk = {}
    for name, layer in AlexLPIPS().features.named_children():
        if isinstance(layer, nn.Conv2d):
            fan_in = layer.weight[0].numel()
            # He-normal weights and small biases keep the activations' scale through the layers.
            trunk[f'features.{name}.weight'] = torch.randn(
                layer.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
            trunk[f'features.{name}.bias'] = 0.01 * torch.randn(layer.bias.shape,
                                                                generator=generator)
    lin = {f'lin{i}.model.1.weight': torch.rand(1, channels, 1, 1, generator=generator) / channels
           for i, channels in enumerate(CHANNELS)}
    return lin, trunk


def write_fake_lpips_weights(path, seed: int = 0):
    """One combined file (lin weights + AlexNet trunk); returns the state dict written."""
    lin, trunk = fake_lpips_state_dicts(seed)
    state = {**trunk, **lin}
    torch.save(state, str(path))
    return state


def fake_inception_state_dict(seed: int = 0, fid: bool = True):
    """Random Inception-v3 weights in pytorch-fid's format (``fid=True``: FID Inception blocks,
    1008-way ``fc``) or torchvision's (1000-way ``fc`` plus ``AuxLogits``).

    The batch-norm statistics are measured on random images, so the activations stay well
    scaled through the 94 random convolutions (as trained statistics would keep them).
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        network = InceptionFeatures(fid_blocks=fid)
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # the running statistics are the batch's
        network.train()
        with torch.no_grad():
            network(torch.rand(2, 3, 299, 299))
        network.eval()
        state = dict(network.state_dict())
        classes = 1008 if fid else 1000
        state['fc.weight'] = 0.01 * torch.randn(classes, 2048)
        state['fc.bias'] = torch.zeros(classes)
        if not fid:
            from torchvision.models.inception import InceptionAux
            aux = InceptionAux(768, classes)
            state.update({f'AuxLogits.{k}': v for k, v in aux.state_dict().items()})
    return state


def write_fake_inception_weights(path, seed: int = 0, fid: bool = True):
    """A random Inception weight file (pytorch-fid's format by default); returns the state dict."""
    state = fake_inception_state_dict(seed, fid)
    torch.save(state, str(path))
    return state
