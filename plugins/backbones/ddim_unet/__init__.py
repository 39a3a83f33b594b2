"""First-party plugin: the DDPM/DDIM CIFAR-10 U-Net, registered as ``type='DDIMUNet'``."""
from rf.plugins import hookimpl
from rf_plugins.backbones.ddim_unet.network import DDIMUNet

__all__ = ['DDIMUNet']


@hookimpl
def rf_register_modules(registry):
    registry.MODELS.register_module(module=DDIMUNet)
