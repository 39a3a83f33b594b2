"""MMEngine's TensorBoard backend when the ``tensorboard`` package is installed, a no-op (after
one log line at the first scalar) when it is not: a config can always list it, and a missing
optional package never stops a run half-way."""
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
        self._told = False

    def _tell_unavailable(self) -> None:
        """The missing package's log line, once, at the first scalar: a run that only tests
        writes no scalars and so hears nothing about TensorBoard."""
        if not self._told:
            self._told = True
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
        else:
            self._tell_unavailable()

    def add_scalars(self, *args, **kwargs) -> None:
        if self.available:
            super().add_scalars(*args, **kwargs)
        else:
            self._tell_unavailable()

    def close(self) -> None:
        if self.available:
            super().close()
