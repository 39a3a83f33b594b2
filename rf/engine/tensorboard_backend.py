"""MMEngine's TensorBoard backend when the ``tensorboard`` package is installed, a no-op (after
one log line) when it is not: a config can always list it, and a missing optional package never
stops a run half-way."""
import importlib.util

from mmengine.logging import print_log
from mmengine.visualization import TensorboardVisBackend

from rf.registry import VISBACKENDS


@VISBACKENDS.register_module()
class OptionalTensorboardVisBackend(TensorboardVisBackend):
    """:class:`mmengine.visualization.TensorboardVisBackend` if ``tensorboard`` is importable
    (``pip install tensorboard``, or rf's ``[tensorboard]`` extra); otherwise nothing."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.available = importlib.util.find_spec('tensorboard') is not None
        if not self.available:
            print_log('tensorboard is not installed, so no TensorBoard logs (pip install '
                      'tensorboard); the scalars still go to vis_data/scalars.json.',
                      logger='current')

    def _init_env(self):
        if self.available:
            super()._init_env()

    @property
    def experiment(self):
        return super().experiment if self.available else None

    def add_config(self, *args, **kwargs) -> None:
        if self.available:
            super().add_config(*args, **kwargs)

    def add_image(self, *args, **kwargs) -> None:
        if self.available:
            super().add_image(*args, **kwargs)

    def add_scalar(self, *args, **kwargs) -> None:
        if self.available:
            super().add_scalar(*args, **kwargs)

    def add_scalars(self, *args, **kwargs) -> None:
        if self.available:
            super().add_scalars(*args, **kwargs)

    def close(self) -> None:
        if self.available:
            super().close()
