"""Portable models: publishing a checkpoint (``.safetensors`` weights, the resolved config, a model
card) and loading published weights from a path or ``hf://OWNER/REPO[/FILE]``
(docs/model_zoo.md).

:mod:`rf.checkpoint` reads ``.safetensors`` and ``hf://`` through :mod:`rf.zoo.safetensors_io`
and :mod:`rf.zoo.hub`; :func:`publish` is imported on first use, so loading stays light.
"""


def __getattr__(name):
    if name in ('publish', 'PublishError'):
        from rf.zoo import publish as module
        return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
