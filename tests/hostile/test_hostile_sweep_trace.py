"""Hostile invocations of ``sweep``, ``trace`` and the playground through the real console script (issue 20).

Each row runs ``backproplab`` in a subprocess, in a directory of its own (also its
TMPDIR), and must end with the row's exit code, no "Traceback", at most three
lines on stderr holding the row's words, every file there before unchanged (none
deleted, none rewritten) and nothing new written, there or in the parent folder
(a config's ``name`` must not lead out). The rows fail before any work, so the
table is fast; they run a few at a time in threads. The playground row is
stopped with Ctrl-C once it listens, with an event stream open and after a
client hung up in the middle of a request.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from console import read_until, refusal_problems, start


@dataclass(frozen=True)
class Row:
    args: tuple[str, ...]
    code: int
    says: str
    setup: tuple[str, ...] = ()
    ctrl_c_after: str = ""  # send SIGINT once stderr shows this


HUGE = tuple(a for key in ("lr", "epochs", "batch_size", "lr_step")
             for a in ("--grid", f"training.{key}=[{', '.join(str(i) for i in range(1, 179))}]"))
LR = ("--grid", "training.lr=[1.0]")

ROWS: dict[str, Row] = {
    # --- sweep: size, train's checks, names, folders, engines ---
    "sweep-billion-cells": Row(("sweep", "xor", *HUGE), 2, "1,003,875,856 cells x 100 runs"),
    "sweep-hundred-million-draws": Row(("sweep", "xor", "--sample", "random:100000000", "--range",
                                        "training.lr=[0.1, 1.0]"), 2, "100,000,000 cells"),
    "sweep-days-of-compute": Row(("sweep", "xor", "--grid", "model.hidden=[[3000, 3000]]", "--runs", "50"), 2,
                                 "--allow-large"),
    "sweep-softmax-on-xor": Row(("sweep", "xor", "--grid", 'model.output=["sigmoid", "softmax"]'), 2,
                                "output softmax does not fit xor"),
    "sweep-three-rows": Row(("sweep", "--data", "moons", "--grid", "data.n_samples=[300, 3]"), 2,
                            "too small to split"),
    "sweep-too-big-to-fit": Row(("sweep", "xor", "--grid", "model.hidden=[[100000, 100000]]", "--allow-large"),
                                2, "of memory to train"),
    "sweep-data-name-iris": Row(("sweep", "xor", "--grid", 'data.name=["xor", "iris"]'), 2, '"softmax" for iris'),
    "sweep-same-cell-twice": Row(("sweep", "xor", "--grid", "training.lr=[1, 1.0]"), 2, "are the same config"),
    "sweep-text-after-array": Row(("sweep", "xor", "--grid", "training.lr=[1]\nx = 2"), 2, "nothing after it"),
    "sweep-table-after-array": Row(("sweep", "xor", "--grid", "training.lr=[1]\n[t]"), 2, "nothing after it"),
    "sweep-out-empty": Row(("sweep", "xor", *LR, "--out", ""), 2, "--out is empty"),
    "sweep-out-dangling": Row(("sweep", "xor", *LR, "--out", "link"), 2, "symbolic link to nothing", ("dangling",)),
    "sweep-users-sweep-toml": Row(("sweep", "xor", *LR, "--out", "mine", "--overwrite"), 2, "not a sweep directory",
                                  ("mine",)),
    "sweep-users-report-md": Row(("sweep", "xor", *LR, "--out", "mine"), 2, "not a sweep directory", ("mine",)),
    "sweep-ucx-scheduler": Row(("sweep", "xor", *LR, "--scheduler", "ucx://127.0.0.1:8786"), 2, "tcp://HOST:PORT"),
    "sweep-scheduler-no-port": Row(("sweep", "xor", *LR, "--scheduler", "tcp://127.0.0.1"), 2, "tcp://HOST:PORT"),
    "sweep-scheduler-closed": Row(("sweep", "xor", *LR, "--scheduler", "tcp://127.0.0.1:1", "--timeout", "2"), 2,
                                  "cannot reach the Dask scheduler"),
    "sweep-timeout-nan": Row(("sweep", "xor", *LR, "--scheduler", "tcp://127.0.0.1:1", "--timeout", "nan"), 2,
                             "--timeout must be"),
    "sweep-name-is-a-path": Row(("sweep", "escape.toml", *LR), 2, "name must be a name", ("escape.toml",)),
    "sweep-runs-0": Row(("sweep", "xor", *LR, "--runs", "0"), 2, "--runs must be an integer >= 1"),
    "sweep-seeds-and-runs": Row(("sweep", "xor", *LR, "--seeds", "3", "--runs", "3"), 2, "old name of --runs"),
    "sweep-seed-chunk-0": Row(("sweep", "xor", *LR, "--seed-chunk", "0"), 2, "--seed-chunk must be"),
    "sweep-grid-runs": Row(("sweep", "xor", "--grid", "training.runs=[2]"), 2, "use --runs"),
    "sweep-range-of-names": Row(("sweep", "xor", "--sample", "lhs:4", "--range", "model.activation=[0, 1]"), 2,
                                "only numeric keys"),
    # --- trace: bounded output, rows and runs ---
    "trace-json-huge": Row(("trace", "--data", "digits", "--output", "softmax", "--hidden", "2000,2000", "--json"),
                           2, "give --full"),
    "trace-markdown-huge": Row(("trace", "--data", "digits", "--output", "softmax", "--hidden", "2000,2000",
                                "--markdown"), 2, "give --full"),
    "trace-row-negative": Row(("trace", "xor", "--row", "-1"), 2, "--row"),
    "trace-row-past-the-end": Row(("trace", "xor", "--row", "4"), 2, "out of range"),
    "trace-input-too-long": Row(("trace", "xor", "--input", "1,0,5"), 2, "3 numbers but"),
    "trace-input-not-a-row": Row(("trace", "xor", "--input", "nan,nan"), 2, "is not a row"),
    "trace-run-without-runs": Row(("trace", "xor", "--run", "0"), 2, "--run picks a run"),
    "trace-runs-without-run": Row(("trace", "xor", "--runs", "3"), 2, "pick one with --run"),
    "trace-trained-and-model": Row(("trace", "xor", "--trained", "--model", "m.npz"), 2, "not allowed with"),
    "trace-name-is-a-path": Row(("trace", "escape.toml"), 2, "name must be a name", ("escape.toml",)),
    # --- the playground: Ctrl-C with a page open ---
    "playground-ctrl-c": Row(("playground", "--no-browser", "--port", "FREE"), 130, "stopped by Ctrl-C",
                             ctrl_c_after="Ctrl-C to stop"),
}


def _mine(where: Path) -> None:
    """A user's folder: their own sweep.toml, report and figure (no manifest: not a sweep's)."""
    (where / "mine" / "figures").mkdir(parents=True)
    (where / "mine" / "sweep.toml").write_text("# my notes on sweeps\n")
    (where / "mine" / "report.md").write_text("my report\n")
    (where / "mine" / "figures" / "fig1.png").write_bytes(b"my figure")


SETUP: dict[str, Callable[[Path], None]] = {
    "dangling": lambda d: (d / "link").symlink_to(d / "nowhere"),
    "mine": _mine,
    "escape.toml": lambda d: (d / "escape.toml").write_text('name = "../escaped"\n[training]\nepochs = 2\n'),
}


def _snapshot(where: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(where)): (p.read_bytes() if p.is_file() else None) for p in sorted(where.rglob("*"))}


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def _open_page(port: int) -> None:
    """Hold the page's event stream open, as a browser tab does, until the server ends it."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/events", timeout=60) as stream:
            while stream.read(256):
                pass
    except (OSError, http.client.HTTPException):  # the server ended the stream, cleanly or not
        pass


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            time.sleep(0.1)


def _half_sent_post(port: int) -> None:
    """Promise 1000 bytes of settings, send 10, hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"lr\": 0.")


def _invoke(spec: Row, where: Path, env: dict[str, str]) -> tuple[int, str]:
    port = _free_port()
    args = [str(port) if a == "FREE" else a for a in spec.args]
    proc = start(*args, cwd=where / "work", env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        err = ""
        if spec.ctrl_c_after:
            err = read_until(proc, spec.ctrl_c_after, 90)
            _wait_listening(port)  # the status line comes a moment before the server listens
            page = threading.Thread(target=_open_page, args=(port,), daemon=True)
            page.start()
            _half_sent_post(port)  # a client that goes away mid-request: no traceback in the log
            time.sleep(1.5)  # the page is open, its stream waiting
            proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=180)[1]
    finally:
        if proc.poll() is None:  # pragma: no cover - only if the command hung
            proc.kill()
            proc.wait()
    return proc.returncode, err + rest


def test_every_hostile_invocation_is_one_line_and_changes_nothing(tmp_path) -> None:
    jobs = {}
    for name, spec in ROWS.items():
        where = tmp_path / name
        (where / "work" / "tmp").mkdir(parents=True)
        for need in spec.setup:
            SETUP[need](where / "work")
        env = {**os.environ, "TMPDIR": str(where / "work" / "tmp")}
        jobs[name] = (spec, where, env, _snapshot(where))
    with ThreadPoolExecutor(4) as pool:
        futures = {name: pool.submit(_invoke, spec, where, env) for name, (spec, where, env, _) in jobs.items()}
        results = {name: f.result() for name, f in futures.items()}
    problems = []
    for name, (code, err) in results.items():
        spec, where, _, before = jobs[name]
        problems += refusal_problems(name, spec.code, spec.says, code, err)
        after = _snapshot(where)
        if after != before:  # nothing new, nothing deleted, nothing rewritten; and not outside work/ either
            changed = sorted(set(after) ^ set(before) | {k for k in before if after.get(k) != before[k]})
            problems.append(f"{name}: changed {changed}")
    assert not problems, "\n".join(problems)


def test_the_table_holds_thirty_rows_over_sweep_trace_and_the_playground() -> None:
    commands = [spec.args[0] for spec in ROWS.values()]
    assert len(ROWS) >= 30 and {"sweep", "trace", "playground"} <= set(commands)


@pytest.mark.parametrize("name", ["sweep-billion-cells", "sweep-hundred-million-draws"])
def test_huge_sweeps_are_refused_in_seconds_not_minutes(name, tmp_path) -> None:
    proc = start(*ROWS[name].args, cwd=tmp_path, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        err = proc.communicate(timeout=120)[1]  # these ran for minutes, or for ever, before
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
    assert proc.returncode == 2 and "cells" in err
