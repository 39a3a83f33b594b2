"""Generated (random) pretrained weights for LPIPS and FID, written into a torch hub cache.

The real files cannot be downloaded here. These have the real files' names, keys and shapes, so
the libraries load them exactly as they would load the real ones: torchvision's AlexNet (the
lpips trunk) and torch-fidelity's FID Inception (torchmetrics' FrechetInceptionDistance). Give
the root to the code under test as ``TORCH_HOME``; the files go to ``<root>/hub/checkpoints``.
"""
import os
import socket
from pathlib import Path
from unittest import mock

import torch
from torch import nn

from rf.metrics.fid import INCEPTION_FILE
from rf.metrics.lpips import ALEXNET_FILE


def checkpoints_dir(torch_home) -> Path:
    """``<torch_home>/hub/checkpoints``, where torch hub keeps downloaded weights."""
    return Path(torch_home) / 'hub' / 'checkpoints'


def fake_alexnet_state_dict(seed: int = 0):
    """Random weights with the keys and shapes of torchvision's ``alexnet-owt-7be5be79.pth``.

    The convolutions get He-normal weights and small biases, so the activations keep their scale
    through the five layers; the classifier, which LPIPS does not use, is broadcast zeros, which
    keeps the file small.
    """
    from torchvision.models import alexnet
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in alexnet(weights=None).state_dict().items():
        if key.startswith('features.') and key.endswith('.weight'):
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=generator) * (2.0 / fan_in) ** 0.5
        elif key.startswith('features.'):
            state[key] = 0.01 * torch.randn(value.shape, generator=generator)
        else:
            state[key] = torch.zeros(()).expand(value.shape)
    return state


def fake_inception_state_dict(seed: int = 0):
    """Random weights with the keys and shapes of torch-fidelity's FID Inception file.

    torch-fidelity's network is built with its weight loading switched off, randomly
    initialised, and its batch-norm statistics measured on small random images, so the activations
    stay well scaled through the 94 random convolutions (as trained statistics keep them).
    """
    from torch_fidelity import feature_extractor_inceptionv3 as module
    with torch.random.fork_rng(), \
            mock.patch.object(module, 'load_state_dict_from_url', return_value=None), \
            mock.patch.object(module.FeatureExtractorInceptionV3, 'load_state_dict'):
        torch.manual_seed(seed)
        network = module.FeatureExtractorInceptionV3('fake', ['2048'])
        for layer in network.modules():
            if isinstance(layer, nn.BatchNorm2d):
                layer.reset_running_stats()
                layer.momentum = None  # the running statistics become the batch's
        network.train()
        with torch.no_grad():
            # Small images, as the tests score (Inception resizes them to 299x299 inside).
            network(torch.randint(0, 256, (4, 3, 48, 48), dtype=torch.uint8))
    return {key: value.clone() for key, value in network.state_dict().items()}


def write_fake_alexnet(torch_home, seed: int = 0) -> Path:
    """The generated AlexNet file in ``torch_home``'s cache; returns its path."""
    path = checkpoints_dir(torch_home) / ALEXNET_FILE
    os.makedirs(path.parent, exist_ok=True)
    torch.save(fake_alexnet_state_dict(seed), path)
    return path


def write_fake_inception(torch_home, seed: int = 0) -> Path:
    """The generated FID Inception file in ``torch_home``'s cache; returns its path."""
    path = checkpoints_dir(torch_home) / INCEPTION_FILE
    os.makedirs(path.parent, exist_ok=True)
    torch.save(fake_inception_state_dict(seed), path)
    return path


def write_fake_hub_cache(torch_home, lpips: bool = True, fid: bool = True) -> Path:
    """A torch hub cache at ``torch_home`` with the generated files asked for; returns the root."""
    if lpips:
        write_fake_alexnet(torch_home)
    if fid:
        write_fake_inception(torch_home)
    return Path(torch_home)


def offline_env(torch_home) -> dict:
    """Environment variables for a process with the (empty) cache ``torch_home`` in which every
    download is refused at once, network or not: all proxies point at a closed local port."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        closed = f'http://127.0.0.1:{probe.getsockname()[1]}'
    proxies = {name: closed for name in ('http_proxy', 'https_proxy', 'all_proxy')}
    proxies.update({name.upper(): value for name, value in proxies.items()})
    return {'TORCH_HOME': str(torch_home), 'no_proxy': '', 'NO_PROXY': '', **proxies}
