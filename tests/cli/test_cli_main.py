"""The entry point: sub-commands, --help everywhere, exit codes, ``python -m backproplab``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backproplab.cli import COMMANDS, main


def test_commands_are_registered() -> None:
    assert {"reproduce", "train", "gradcheck"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["reproduce", "train", "gradcheck"])
def test_help_of_each_command(command, capsys) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: backproplab {command}") and "--quiet" in out


def test_no_command_is_bad_usage(capsys) -> None:
    assert main([]) == 2
    assert "reproduce" in capsys.readouterr().err


def test_unknown_command_is_bad_usage(capsys) -> None:
    assert main(["reproduse"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m() -> None:
    done = subprocess.run([sys.executable, "-m", "backproplab", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for command in ("reproduce", "train", "gradcheck"):
        assert command in done.stdout

