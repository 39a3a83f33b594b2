"""The ``rf`` command: subcommands dispatch to rf.cli.commands, unknown ones get a suggestion."""
import json

import pytest

from rf.cli.main import COMMANDS, available, main


def test_help_lists_the_available_commands(capsys):
    assert main(['--help']) == 0
    out = capsys.readouterr().out
    for name in ('score', 'benchmark', 'plugins'):
        assert f'  {name} ' in out
    assert all(f'  {name} ' not in out for name in COMMANDS if not available(name))


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert 'usage: rf COMMAND' in capsys.readouterr().out


def test_a_misspelt_command_gets_a_suggestion(capsys):
    assert main(['plugin']) == 2
    assert "no command 'plugin'. Did you mean plugins?" in capsys.readouterr().err


def test_version(capsys):
    assert main(['--version']) == 0
    assert capsys.readouterr().out.startswith('rf ')


def test_a_subcommand_gets_its_own_arguments(capsys):
    assert main(['plugins', '--json']) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(p['name'] == 'resfusion_unet' and p['loaded'] for p in listed)


def test_a_subcommands_errors_are_one_line(tmp_path, capsys):
    assert main(['score', str(tmp_path / 'a'), str(tmp_path / 'b'), '--protocol', 'rgb']) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'Traceback' not in err


@pytest.mark.parametrize('name', sorted(COMMANDS))
def test_every_available_command_has_a_main(name):
    if not available(name):
        pytest.skip(f'rf.cli.commands.{COMMANDS[name][0]} is not there yet')
    import importlib
    assert callable(importlib.import_module(f'rf.cli.commands.{COMMANDS[name][0]}').main)
