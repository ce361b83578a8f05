"""``backproplab trace`` given bad input: exit 2 (bad usage) or 1 (the work failed), one short error, no
traceback, and nothing left behind in the working directory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import backproplab as bp
from backproplab.cli import main

#: (command line after ``trace``, exit code, words the error must contain).
BAD = [
    (["xor", "--runs", "4"], 2, "pick one with --run R (0..3)"),
    (["xor", "--runs", "4", "--run", "4"], 2, "--run 4 is out of range"),
    (["xor", "--run", "0"], 2, "this network has none"),
    (["xor", "--input", "3,3"], 2, "not a row of the xor training data"),
    (["xor", "--input", "1"], 2, "--input has 1 numbers but the xor data has 2 features"),
    (["xor", "--input", "a,b"], 2, "comma-separated numbers"),
    (["xor", "--row", "4"], 2, "--row 4 is out of range"),
    (["xor", "--row", "-1"], 2, "--row"),
    (["xor", "--input", "1,0", "--row", "1"], 2, "not allowed with argument"),
    (["xor", "--json", "--markdown"], 2, "not allowed with argument"),
    (["xor", "--trained", "--model", "m.npz"], 2, "not allowed with argument"),
    (["xor", "--model", "missing.npz"], 2, "missing.npz"),
    (["xor", "--model", "garbage.npz"], 2, "garbage.npz"),
    (["xor", "--model", "wide.npz"], 2, "features"),
    (["no-such-config"], 2, "no-such-config"),
    (["xor", "--lr", "-1"], 2, "lr"),
    (["xor", "--activation", "swish"], 2, "swish"),
    (["xor", "--output", "softmax"], 2, "does not fit xor"),
    (["--data", "moons", "--output", "identity"], 2, "does not fit moons"),
    (["xor", "--output", "identity", "--lr", "1e10", "--epochs", "50", "--trained", "-q"], 1, "training failed"),
]


@pytest.mark.parametrize(("argv", "code", "words"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_invocations(tmp_path, monkeypatch, capsys, argv, code, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    bp.mlp([5, 2, 1]).save(tmp_path / "wide.npz")
    before = sorted(os.listdir(tmp_path))
    assert main(["trace", *argv]) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert words in captured.err and "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) <= 3
    assert sorted(os.listdir(tmp_path)) == before  # nothing left behind


def test_the_console_entry_point_prints_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "backproplab", "trace", "xor", "--runs", "2"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("backproplab trace: error:") and "Traceback" not in proc.stderr
    assert os.listdir(tmp_path) == []
