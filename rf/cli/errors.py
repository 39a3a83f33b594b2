"""One clear line for user-caused errors: the wrapper every command-line tool's ``main`` runs in.

An error the user can fix (a typo in a ``type``, a config without ``train_dataloader``, an
unreadable image) is printed as one ``error: ...`` line and exit code 1; anything else is a bug
and keeps its traceback.
"""
import builtins
import os
import re
import sys
from typing import Any, Callable, Optional, Tuple, Type

from rf.cli.unknown_types import explain_unknown_type
from rf.cli.user_errors import ConfigKeyError, UnknownTypeError, error_text

# torch.utils.data re-raises a worker's exception as "Caught X in DataLoader worker process N.
# \nOriginal Traceback (most recent call last):\n<traceback>".
_WORKER = re.compile(r'^Caught (?P<cls>\w+) (?P<where>in [^\n]*?)\.\nOriginal Traceback[^\n]*\n',
                     re.DOTALL)
_EXCEPTION_LINE = re.compile(r'^(?P<cls>[A-Za-z_][\w.]*)(?:: (?P<msg>.*))?$', re.DOTALL)



def _expected_types() -> Tuple[Type[BaseException], ...]:
    # Imported here: both modules pull in heavier dependencies than this one needs.
    from rf.checkpoint import UnsafeCheckpointError
    from rf.datasets.image_io import ImageReadError
    return (UnknownTypeError, ConfigKeyError, ImageReadError, UnsafeCheckpointError,
            FileNotFoundError, NotADirectoryError, IsADirectoryError)


def _is_user_error(cls: type) -> bool:
    return (isinstance(cls, type) and issubclass(cls, _expected_types())) or \
        getattr(cls, 'rf_user_error', False) is True


def _resolve_class(qualified: str) -> Optional[type]:
    """The exception class named on a traceback's last line, if its module is already imported."""
    module, _, name = qualified.rpartition('.')
    owner = sys.modules.get(module) if module else builtins
    cls = getattr(owner, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else None


def _unwrap_worker(text: str) -> Optional[Tuple[str, str]]:
    """``(class name, message)`` of the original exception in a DataLoader-worker re-raise."""
    found = _WORKER.match(text)
    if found is None:
        return None
    lines = text[found.end():].rstrip('\n').split('\n')
    frames = [i for i, line in enumerate(lines) if line.startswith('  File ')]
    start = frames[-1] + 1 if frames else 0
    while start < len(lines) and (not lines[start] or lines[start][0].isspace()):
        start += 1  # the frame's source line and its ^^^^ markers
    exception = _EXCEPTION_LINE.match('\n'.join(lines[start:]))
    if exception is None:
        return found.group('cls'), text
    return exception.group('cls'), (exception.group('msg') or '').strip()


def _strip_key_quotes(cls: Optional[type], message: str) -> str:
    # A KeyError's traceback line shows repr() of its argument.
    if cls is not None and issubclass(cls, KeyError) and not issubclass(
            cls, (UnknownTypeError, ConfigKeyError)) and len(message) >= 2 \
            and message[0] == message[-1] and message[0] in '\'"':
        return message[1:-1]
    return message


def one_line_error(exc: BaseException) -> Optional[str]:
    """What a command-line tool prints for an expected, user-caused error; None for a bug.

    Expected: a registry's unknown type, :class:`ConfigKeyError`, ``ImageReadError``,
    ``UnsafeCheckpointError``, missing files and folders, and any class with
    ``rf_user_error = True``. A DataLoader worker's re-raise is judged by the original exception.
    """
    cls: Optional[type] = type(exc)
    message = error_text(exc)
    wrapped = _unwrap_worker(message)
    if wrapped is not None:
        name, message = wrapped
        cls = _resolve_class(name) or (type(exc) if type(exc).__name__ == name.rpartition('.')[2]
                                       else None)
        message = _strip_key_quotes(cls, message)
    explained = explain_unknown_type(KeyError(message))
    if explained is not None:
        return explained
    if cls is None or not _is_user_error(cls):
        return None
    if wrapped is None and isinstance(exc, OSError) and exc.filename is not None:
        # "[Errno 2] No such file or directory: 'x'" -> "No such file or directory: x"
        target = os.fsdecode(exc.filename)
        return f'{exc.strerror or type(exc).__name__}: {target}'
    return message.strip() or cls.__name__


def run_cli(main: Callable[[], Any]) -> int:
    """Run ``main`` and return the process's exit code (``sys.exit(run_cli(main))``).

    A user-caused error prints ``error: <one line>`` to stderr and gives 1; Ctrl-C gives 130;
    a bug re-raises with its traceback; ``SystemExit`` passes through. An int that ``main``
    returns is the exit code; anything else is 0.
    """
    try:
        result = main()
    except KeyboardInterrupt:
        print('error: interrupted', file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug re-raises below
        text = one_line_error(exc)
        if text is None:
            raise
        print(f'error: {text}', file=sys.stderr)
        return 1
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
