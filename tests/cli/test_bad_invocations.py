"""Bad invocations of every command, through the real ``backproplab`` entry point (issue 11, part 2).

Each row is run in a subprocess, in a directory of its own (also its TMPDIR),
and must end with the row's exit code (2 bad usage, 1 failure, 130 Ctrl-C), no
"Traceback" on stderr, at most three lines of stderr, the row's words in them,
and not a single new file or directory. The rows fail before any work, so the
table is fast; they run a few at a time in threads.

Rows for a new command go in ``ROWS``; a row needing something on disk names a
``SETUP`` entry. ``i11g`` keeps gradcheck's own table (tests/cli/test_cli_gradcheck*);
here gradcheck gets only the generic rows.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from backproplab.cli import main

from console import read_until, refusal_problems, start


@dataclass(frozen=True)
class Row:
    """One bad invocation: the arguments, the exit code, words stderr must hold, what must exist first."""

    args: tuple[str, ...]
    code: int
    says: str
    setup: tuple[str, ...] = ()
    interrupt_after: str = ""  # send SIGINT once stderr shows this (the command is at work)


def row(command: str, code: int, says: str, *setup: str, interrupt_after: str = "") -> Row:
    return Row(tuple(command.split()), code, says, setup, interrupt_after)


ROWS: dict[str, Row] = {
    # --- train ---
    "train-unknown-flag": row("train xor --bogus", 2, "usage: backproplab train"),
    "train-resume-finished": row("train --resume R", 2, "R is finished", "run"),
    "train-resume-fewer-epochs": row("train --resume R --epochs 3", 2, "--epochs 3 is not more than the 5", "run"),
    "train-resume-other-config": row("train --resume R --hidden 4", 2, "cannot take --hidden", "run"),
    "train-resume-nothing": row("train --resume nowhere", 2, "no checkpoint.npz"),
    "train-softmax-on-logic": row("train xor --output softmax", 2, "output softmax does not fit xor"),
    "train-identity-on-labels": row("train --data moons --output identity", 2, "output identity"),
    "train-sigmoid-on-multiclass": row("train --data digits --output sigmoid", 2, "must be \"softmax\" for digits"),
    "train-out-under-a-file": row("train xor --out file/x", 2, "file is a file, not a directory", "file"),
    "train-out-under-proc": row("train xor --out /proc/x", 2, "cannot write in /proc"),
    "train-out-under-sys": row("train xor --out /sys/x/y", 2, "cannot write in /sys"),
    "train-out-read-only": row("train xor --out ro/x", 2, "cannot write in", "read-only"),
    "train-out-not-ours": row("train xor --out notours", 2, "was not written by backproplab", "notours"),
    "train-tiny-data": row("train --data moons --n-samples 3", 2, "too small to split"),
    "train-too-big-to-fit": row("train xor --hidden 100000,100000", 2, "of memory to train"),
    "train-config-is-a-directory": row("train cfg", 2, "cfg is a directory, not a config file", "cfg"),
    "train-config-missing": row("train nonesuch", 2, "no config file 'nonesuch'"),
    "train-val-on-logic": row("train xor --val 0.2", 2, "--val has no effect on xor"),
    "train-test-on-logic": row("train xor --test 0.2", 2, "--test has no effect on xor"),
    "train-n-samples-on-logic": row("train xor --n-samples 50", 2, "--n-samples has no effect on xor"),
    "train-noise-on-iris": row("train --data iris --noise 0.1", 2, "--noise has no effect on iris"),
    "train-zero-epochs": row("train xor --epochs 0", 2, "--epochs must be an integer"),
    "train-bad-hidden": row("train xor --hidden a,b", 2, "expected comma-separated integers"),
    "train-checkpoint-every-0": row("train xor --checkpoint-every 0", 2, "--checkpoint-every must be"),
    # --- reproduce ---
    "reproduce-unknown-flag": row("reproduce --bogus", 2, "usage: backproplab reproduce"),
    "reproduce-out-under-proc": row("reproduce --out /proc/x", 2, "cannot write in /proc"),
    "reproduce-out-under-a-file": row("reproduce --out file/x", 2, "not a directory", "file"),
    "reproduce-out-read-only": row("reproduce --out ro/x", 2, "cannot write in", "read-only"),
    "reproduce-out-not-ours": row("reproduce --out notours", 2, "was not written by backproplab", "notours"),
    "reproduce-one-seed": row("reproduce --runs 1", 2, "--runs must be 0 (skip) or at least 2"),
    "reproduce-zero-sweep-epochs": row("reproduce --sweep-epochs 0", 2, "--sweep-epochs must be"),
    "reproduce-ctrl-c": row("reproduce --out rep", 130, "interrupted by Ctrl-C", interrupt_after="AND:"),
    # --- explore ---
    "explore-unknown-flag": row("explore R --bogus", 2, "usage: backproplab explore", "run"),
    "explore-no-path": row("explore", 2, "the following arguments are required: PATH"),
    "explore-nowhere": row("explore nowhere", 2, "no run directory at nowhere"),
    "explore-empty-dir": row("explore notours", 2, "holds no config.toml", "notours"),
    "explore-not-a-recording": row("explore bad.toml", 2, "bad.toml", "bad.toml"),
    "explore-out-under-proc": row("explore R --out /proc/x.html", 2, "cannot write in /proc", "run"),
    "explore-out-under-a-file": row("explore R --out file/x.html", 2, "file is a file", "run", "file"),
    "explore-out-is-a-directory": row("explore R --out notours", 2, "is a directory; name a file", "run", "notours"),
    "explore-out-read-only": row("explore R --out ro/x.html", 2, "cannot write in", "run", "read-only"),
    "explore-ctrl-c": row("explore long", 130, "interrupted by Ctrl-C", "long", interrupt_after="re-training"),
    # --- playground ---
    "playground-unknown-flag": row("playground --bogus", 2, "usage: backproplab playground"),
    "playground-port-0": row("playground --port 0", 2, "--port must be from 1 to 65535"),
    "playground-port-not-a-number": row("playground --port http", 2, "invalid int value"),
    "playground-port-busy": row("playground --no-browser --port BUSY", 1, "try another --port", "busy"),
    # --- gradcheck: generic rows only (its own table is tests/cli/test_cli_gradcheck*) ---
    "gradcheck-unknown-flag": row("gradcheck xor --bogus", 2, "usage: backproplab gradcheck"),
    "gradcheck-config-is-a-directory": row("gradcheck cfg", 2, "cfg is a directory", "cfg"),
    "gradcheck-model-missing": row("gradcheck xor --model /proc/none.npz", 2, "none.npz"),
    "gradcheck-val-on-logic": row("gradcheck xor --val 0.2", 2, "--val has no effect on xor"),
    # --- the entry point ---
    "no-command": row("", 2, "usage: backproplab"),
    "unknown-command": row("reproduse", 2, "invalid choice"),
}


# --- what rows need on disk ------------------------------------------------------------------
def _run(where: Path, source: Path) -> None:
    shutil.copytree(source, where / "R")


def _long(where: Path) -> None:
    """A run directory whose config trains for ages: explore re-trains it until Ctrl-C."""
    (where / "long").mkdir()
    (where / "long" / "config.toml").write_text('name = "long"\n[training]\nepochs = 10000000\n')


def _read_only(where: Path) -> None:
    (where / "ro").mkdir()
    (where / "ro").chmod(0o555)


SETUP: dict[str, Callable[[Path], None]] = {
    "file": lambda d: (d / "file").write_text("not a directory\n"),
    "notours": lambda d: ((d / "notours").mkdir(), (d / "notours" / "mine.txt").write_text("keep\n")),
    "cfg": lambda d: (d / "cfg").mkdir(),
    "bad.toml": lambda d: (d / "bad.toml").write_text("this is [not toml\n"),
    "long": _long,
    "read-only": _read_only,
    "busy": lambda d: None,  # a socket the test holds
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A finished 5-epoch XOR run (its final checkpoint inside)."""
    where = tmp_path_factory.mktemp("finished") / "R"
    assert main(["train", "xor", "--epochs", "5", "--out", str(where), "--quiet"]) == 0
    return where


def _listing(where: Path) -> list[str]:
    return sorted(str(p.relative_to(where)) for p in where.rglob("*"))


def _invoke(name: str, spec: Row, where: Path, env: dict[str, str], busy_port: int) -> tuple[int, str, list, list]:
    before = _listing(where)
    args = [str(busy_port) if a == "BUSY" else a for a in spec.args]
    proc = start(*args, cwd=where, env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        err = ""
        if spec.interrupt_after:
            err = read_until(proc, spec.interrupt_after, 60)
            time.sleep(0.2)  # well inside the work
            proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:  # pragma: no cover - only if the command hung
            proc.kill()
            proc.wait()
    return proc.returncode, err + rest, before, _listing(where)


def test_every_bad_invocation_is_one_clear_line_and_leaves_nothing(tmp_path, finished_run):
    env = dict(os.environ)
    jobs = {}
    root_reads_anything = os.geteuid() == 0  # permission bits do not stop root: no read-only directory to test
    for name, spec in ROWS.items():
        if "read-only" in spec.setup and root_reads_anything:
            continue
        where = tmp_path / name
        (where / "tmp").mkdir(parents=True)
        for need in spec.setup:
            _run(where, finished_run) if need == "run" else SETUP[need](where)
        jobs[name] = (spec, where, {**env, "TMPDIR": str(where / "tmp")})
    with socket.create_server(("127.0.0.1", 0)) as busy, ThreadPoolExecutor(4) as pool:
        port = busy.getsockname()[1]
        futures = {name: pool.submit(_invoke, name, spec, where, job_env, port)
                    for name, (spec, where, job_env) in jobs.items()}
        results = {name: f.result() for name, f in futures.items()}
    problems = []
    for name, (code, err, before, after) in results.items():
        spec = ROWS[name]
        problems += refusal_problems(name, spec.code, spec.says, code, err)
        if before != after:
            problems.append(f"{name}: left behind {sorted(set(after) - set(before))}")
    assert not problems, "\n".join(problems)
    assert len(results) >= 40


def test_the_table_covers_every_command():
    from backproplab.cli import COMMANDS

    covered = {spec.args[0] for spec in ROWS.values() if spec.args}
    assert {"reproduce", "train", "explore", "playground", "gradcheck"} <= covered
    assert covered - {"reproduse"} <= set(COMMANDS)
