"""First-party plugin: a U-Net around any timm encoder, registered as ``type='TimmUNet'``."""
from rf.plugins import hookimpl
from rf_plugins.backbones.timm_unet.network import TimmUNet

__all__ = ['TimmUNet']


@hookimpl
def rf_register_modules(registry):
    registry.MODELS.register_module(module=TimmUNet)
