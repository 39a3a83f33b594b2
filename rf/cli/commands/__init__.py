"""The implementations of rf's commands (``rf train``, ``rf test``, ...).

Each module has ``main(argv=None)``; ``rf.cli.main`` dispatches to it and ``tools/<name>.py`` is a
thin script over it, so ``python tools/train.py CONFIG`` keeps working from a checkout.
"""
