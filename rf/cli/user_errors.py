"""The user-caused errors the command-line tools explain in one line, and their text.

:class:`UnknownTypeError` and :class:`ConfigKeyError` carry a sentence, not a dict key, so their
``str`` is that sentence (``KeyError`` would quote it).
"""
from typing import Sequence

SHOWN_NAMES = 10  # names listed at most when a message offers choices


class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry knows; the message says which names are close."""

    def __str__(self) -> str:
        return sentence_of(self)


class ConfigKeyError(KeyError):
    """A config lacks keys a command needs: ``keys`` lists them (dotted), ``config_path`` names
    the file."""

    def __init__(self, message: str, keys: Sequence[str] = (), config_path: str = '') -> None:
        super().__init__(message)
        self.keys = list(keys)
        self.config_path = config_path

    def __str__(self) -> str:
        return sentence_of(self)


def sentence_of(exc: KeyError) -> str:
    """The sentence a KeyError carries (``KeyError.__str__`` would quote it like a dict key)."""
    return str(exc.args[0]) if len(exc.args) == 1 else super(KeyError, exc).__str__()


def error_text(exc: BaseException) -> str:
    """The exception's text without KeyError's quotes."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)
