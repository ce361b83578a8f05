"""Bad ``backproplab gradcheck`` invocations, run through the real entry point in a subprocess.

Each ends with exit code 1 or 2 (130 for Ctrl-C), at most three lines on stderr,
no traceback, and no directory left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import backproplab as bp

from console import backproplab_command, start

ENTRY = backproplab_command()

#: (arguments, exit code, words stderr must contain)
BAD = [
    (["xor", "--eps", "0"], 2, "--eps"),
    (["xor", "--eps", "nan"], 2, "--eps"),
    (["xor", "--rtol", "-1"], 2, "--rtol"),
    (["xor", "--atol", "abc"], 2, "--atol"),
    (["xor", "--max-checks", "0"], 2, "--max-checks"),
    (["xor", "--max-checks", "2.5"], 2, "--max-checks"),
    (["xor", "--max-rows", "-1"], 2, "--max-rows"),
    (["xor", "--check-seed", "-1"], 2, "--check-seed"),
    (["no-such-config"], 2, "no-such-config"),
    (["xor", "--model", "missing.npz"], 2, "missing.npz"),
    (["xor", "--model", "not-a-model.npz"], 2, "not a backproplab model file"),
    (["xor", "--model", "three-inputs.npz"], 2, "features"),
    (["xor", "--train", "--model", "three-inputs.npz"], 2, "exclude"),
    (["xor", "--dtype", "float32"], 2, "float64"),
    (["xor", "--output", "softmax"], 2, "use --output sigmoid"),  # train's up-front checks of config and data
    (["--data", "moons", "--output", "identity"], 2, "does not fit moons"),
    (["--data", "moons", "--n-samples", "3"], 2, "too small to split"),
    (["--data", "iris", "--output", "sigmoid"], 2, "softmax"),
    (["--data", "no-such-data"], 2, "--data"),
    (["xor", "--activation", "bogus"], 2, "--activation"),
    (["xor", "--dropout", "1.5"], 2, "--dropout"),
    (["xor", "--bogus"], 2, "--bogus"),
]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*ENTRY, "gradcheck", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env)


def _assert_clean_failure(done: subprocess.CompletedProcess, code: int, words: str, before: set[str], cwd: Path):
    err = done.stderr
    assert done.returncode == code, err
    assert "Traceback" not in err
    assert 1 <= len(err.strip().splitlines()) <= 3, err
    assert words in err, err
    assert set(os.listdir(cwd)) == before  # nothing new, in particular no directory


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, set[str], dict[str, subprocess.CompletedProcess]]:
    """Every row of ``BAD`` run at once (they are independent): the directory, its files before, the results."""
    cwd = tmp_path_factory.mktemp("gradcheck-bad")
    (cwd / "not-a-model.npz").write_text("hello")
    bp.mlp([3, 2, 1]).save(cwd / "three-inputs.npz")
    before = set(os.listdir(cwd))
    procs = {" ".join(args): subprocess.Popen([*ENTRY, "gradcheck", *args], cwd=cwd, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True) for args, _, _ in BAD}
    done = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        done[key] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return cwd, before, done


@pytest.mark.parametrize(("args", "code", "words"), BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_invocation(finished, args, code, words):
    cwd, before, done = finished
    _assert_clean_failure(done[" ".join(args)], code, words, before, cwd)


def test_digits_without_the_scikit_learn_extra(tmp_path):
    # A package named sklearn that cannot be imported stands in for the missing extra.
    blocker = tmp_path / "blocker" / "sklearn"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('No module named sklearn (blocked by the test)')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(blocker.parent),
                                                                        os.environ.get("PYTHONPATH")]))}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = _run(["--data", "digits"], cwd, env)
    _assert_clean_failure(done, 2, "pip install 'backproplab[sklearn]'", set(), cwd)


def test_ctrl_c_during_the_check(tmp_path):
    # A check long enough to be interrupted: wide layers, many rows, in extended precision.
    proc = start("gradcheck", "--data", "spirals", "--n-samples", "2000", "--hidden", "128,128", "--max-rows", "1000",
                 "--max-checks", "1000", cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the status line: the check has begun
    assert "checking" in first, first
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=60)
    err = first + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3, err
    assert "interrupted by Ctrl-C" in err and out == ""
    assert os.listdir(tmp_path) == []
