"""The shell ring: what command-line tools need and the library does not.

Argument parsing and config loading (:mod:`rf.cli.arguments`, :mod:`rf.cli.config_loading`), the
one-line error wrapper :func:`rf.cli.errors.run_cli` with its explanations of unknown types and
missing config keys, benchmarking (:mod:`rf.cli.benchmarking`) and the glibc malloc settings that
tools re-execute with (:mod:`rf.cli.malloc_defaults`). Nothing in the core or the runtime
(``rf.engine``) imports this package; ``tools/*.py`` are thin scripts over it.
"""
