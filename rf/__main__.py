"""``python -m rf COMMAND ...``: the ``rf`` command (:mod:`rf.cli.main`)."""
from rf.cli.main import entry_point

if __name__ == '__main__':
    entry_point()
