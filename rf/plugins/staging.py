"""Registries that hold a plugin's names in a scratch registry until the whole plugin is valid.

While a stage is open, everything registered (by decorators at import time or by the plugin's
``rf_register_modules`` hook) goes into a scratch :class:`~mmengine.registry.Registry`, not into
this one. The loader then checks the staged names against this registry (a name already taken is
a clash unless the plugin asked for ``force=True``) and either publishes them all or drops them
all: a plugin that fails half-way leaves nothing behind, and nothing is ever unregistered.
"""
from typing import Dict, Optional, Set

from mmengine.registry import Registry


class StagedRegistry(Registry):
    """An MMEngine ``Registry`` with ``open_stage`` / ``check_stage`` / ``publish_stage`` /
    ``discard_stage`` for the plugin loader."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._scratch: Optional[Registry] = None
        self._forced: Set[str] = set()

    def _register_module(self, module, module_name=None, force: bool = False) -> None:
        if self._scratch is None:
            super()._register_module(module, module_name, force)
            return
        names = [module_name] if isinstance(module_name, str) else (
            module_name or [getattr(module, '__name__', None)])
        self._scratch.register_module(name=module_name, module=module, force=force)
        if force:
            self._forced.update(name for name in names if name)

    @property
    def staging(self) -> bool:
        return self._scratch is not None

    def open_stage(self) -> None:
        """Send registrations to a fresh scratch registry from now on."""
        self._scratch = Registry(f'{self.name} (staged)')
        self._forced = set()

    def staged(self) -> Dict[str, object]:
        """The names registered since :meth:`open_stage`."""
        return dict(self._scratch.module_dict) if self._scratch is not None else {}

    def check_stage(self) -> None:
        """Raise ``KeyError`` (as ``register_module`` would) for a staged name already taken
        here, unless it was registered with ``force=True``."""
        for name in self.staged():
            if name in self.module_dict and name not in self._forced:
                raise KeyError(f'{name} is already registered in {self.name} at '
                               f'{self.module_dict[name].__module__}')

    def publish_stage(self) -> Dict[str, object]:
        """Register the staged names here (after :meth:`check_stage`) and close the stage."""
        staged, forced = self.staged(), self._forced
        self.discard_stage()
        for name, module in staged.items():
            super()._register_module(module, name, force=name in forced)
        return staged

    def discard_stage(self) -> None:
        """Drop the staged names and close the stage."""
        self._scratch = None
        self._forced = set()
