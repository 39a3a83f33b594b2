"""rf: Resfusion, diffusion for image restoration that starts from the noisy degraded image.

Importing ``rf`` is cheap on purpose: the registries live in :mod:`rf.registry`, the diffusion
core in :mod:`rf.diffusion`, and plugins are discovered lazily the first time a registry is searched.
"""

__version__ = '0.1.0'
