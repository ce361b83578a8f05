"""The ``backproplab`` console script as a user's shell starts it, for tests that run it as a process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def backproplab_command() -> list[str]:
    """The installed console script next to this Python (``python -m backproplab`` if there is none)."""
    script = Path(sys.executable).with_name("backproplab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "backproplab"]


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts with SIGINT.

    A shell that runs a job in the background without job control (CI scripts, ``cmd &``) starts it
    with SIGINT ignored, every child inherits that, and Python then installs no KeyboardInterrupt
    handler: the test's Ctrl-C would never arrive. A terminal's Ctrl-C is what the tests mean.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, **options: Any) -> subprocess.Popen:
    """``backproplab ARGS`` started as a process that SIGINT reaches (``subprocess.Popen`` options pass through)."""
    return subprocess.Popen([*backproplab_command(), *args], preexec_fn=default_sigint, **options)


def read_until(proc: subprocess.Popen, marker: str, seconds: float) -> str:
    """Read ``proc``'s stderr (text mode) line by line until ``marker`` shows, it closes, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    err = ""
    while marker not in err and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        err += line
    return err


def refusal_problems(name: str, expected_code: int, says: str, code: int, err: str) -> list[str]:
    """What is wrong with one refused invocation: its exit code, a traceback, over 3 lines on stderr, missing words."""
    problems, lines = [], err.strip().splitlines()
    if code != expected_code:
        problems.append(f"{name}: exit {code}, expected {expected_code}: {err.strip()[-300:]}")
    if "Traceback" in err:
        problems.append(f"{name}: a traceback: {err[-500:]}")
    if len(lines) > 3:
        problems.append(f"{name}: {len(lines)} lines on stderr: {err[-500:]}")
    if says not in err:
        problems.append(f"{name}: stderr does not say {says!r}: {err.strip()[-300:]}")
    return problems
