"""The progress unit outside a kernel: the terminal behaviour of fit, sweep and reproduce is unchanged.

The kernel side (a notebook widget that stays, its final count) is tested in a real
kernel by tests/notebook/test_kernel_outputs.py.
"""

from __future__ import annotations

import subprocess
import sys

from backproplab.train.progress import in_kernel, progress_bar


def test_no_kernel_no_bar_without_a_terminal() -> None:
    assert not in_kernel()
    assert progress_bar(10, desc="epochs", unit="ep", enabled=True) is None  # pytest's stderr is no terminal
    assert progress_bar(10, desc="sweep", unit="cell", enabled=False, tty_only=False) is None


def test_any_stderr_when_asked_and_never_kept() -> None:
    bar = progress_bar(3, initial=1, desc="sweep", unit="cell", enabled=True, tty_only=False)
    try:
        assert (bar.total, bar.n, bar.leave) == (3, 1, False)  # a terminal's bar disappears when done, as before
    finally:
        bar.close()


def test_fit_prints_nothing_to_a_pipe() -> None:
    code = ("import backproplab as bp; from backproplab.data import logic_table; X, y = logic_table('xor');"
            "bp.fit(bp.mlp([2, 4, 1]), X, y, epochs=50)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert (done.stdout, done.stderr) == ("", "")
