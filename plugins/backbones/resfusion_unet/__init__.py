"""First-party plugin: the paper's U-Net, registered as ``type='ResfusionUNet'``."""
from rf.plugins import hookimpl
from rf_plugins.backbones.resfusion_unet.network import ResfusionUNet

__all__ = ['ResfusionUNet']


@hookimpl
def rf_register_modules(registry):
    registry.MODELS.register_module(module=ResfusionUNet)
