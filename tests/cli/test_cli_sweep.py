"""``backproplab sweep``: the same table in-process, on a local Dask cluster and on a running one; faults and resume.

Every Dask process is started here on 127.0.0.1 and stopped by its pid.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backproplab.cli import main
from backproplab.experiments.config import load_config
from backproplab.files.io import read_archive
from backproplab.sweeps.engines import DaskEngine
from backproplab.sweeps.spec import cell_key
from backproplab.sweeps.store import CELL_FORMAT, CELL_VERSION

from console import start

distributed = pytest.importorskip("distributed")

# A 3 x 2 grid of XOR cells, 50 seeds each: about a second in-process.
SWEEP = ["sweep", "xor", "--epochs", "1000", "--grid", "model.hidden=[[2],[4],[8]]", "--grid",
         "training.lr=[0.1, 1.0]", "--runs", "50"]
CELLS = 6


def _table(path: Path) -> list[dict[str, str]]:
    """results.csv without its one column that is not a result (training time)."""
    rows = list(csv.DictReader(path.open()))
    assert rows and all(float(row.pop("seconds")) > 0 for row in rows)
    return rows


def _cells(out: Path) -> set[str]:
    return {p.stem for p in (out / "cells").glob("*.npz")}


def _cli(*args: str) -> subprocess.Popen:
    return start(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process (and, if it does not go, SIGKILL its process group: it leads one), then reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a worker the nanny left behind, if any


def _wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sweep run in-process: the table every other way of running it must give."""
    out = tmp_path_factory.mktemp("sweep") / "in-process"
    assert main([*SWEEP, "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """``dask scheduler`` and ``dask worker --nworkers 2`` on 127.0.0.1, as subprocesses; yields (address, client)."""
    with socket.socket() as s:  # a free port (the scheduler binds it a moment later)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dask")
    procs = []
    try:
        for name, args in (("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]),
                           ("worker", ["worker", address, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard"])):
            with open(log / f"{name}.log", "w") as f:
                procs.append(subprocess.Popen([sys.executable, "-m", "dask", *args],
                                              stdout=f, stderr=subprocess.STDOUT, start_new_session=True))
        client = distributed.Client(address, timeout=30)
        client.wait_for_workers(2, timeout=60)
        yield address, client
        client.close()
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_same_table_in_process_on_local_workers_and_on_a_scheduler(reference, scheduler, tmp_path,
                                                                     capsys) -> None:
    address, _ = scheduler
    expected = _table(reference / "results.csv")
    assert len(expected) == CELLS
    assert [(r["model.hidden"], r["training.lr"]) for r in expected] == [
        (h, lr) for h in ("[2]", "[4]", "[8]") for lr in ("0.1", "1.0")]  # grid order
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert main([*SWEEP, "--out", str(local), "--workers", "2", "--seed-chunk", "20", "-q"]) == 0
    assert main([*SWEEP, "--out", str(remote), "--scheduler", address, "--seed-chunk", "15", "-q"]) == 0
    assert _table(local / "results.csv") == expected
    assert _table(remote / "results.csv") == expected
    assert _cells(local) == _cells(remote) == _cells(reference)
    # One cell is `backproplab train xor --runs 50` with the same settings: the same loss for every seed.
    capsys.readouterr()
    assert main(["train", "xor", "--epochs", "1000", "--hidden", "4", "--lr", "1.0", "--runs", "50",
                 "--out", str(tmp_path / "train"), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    row = expected[3]
    assert (row["model.hidden"], row["training.lr"]) == ("[4]", "1.0")
    config = load_config(tmp_path / "train" / "config.toml")
    _, arrays = read_archive(remote / "cells" / f"{cell_key(config, 0.1)}.npz", CELL_FORMAT, CELL_VERSION,
                             "sweep cell")
    np.testing.assert_array_equal(arrays["seed"], np.arange(50))
    np.testing.assert_array_equal(arrays["final_loss"], trained["final_loss"])
    assert float(row["final_loss_median"]) == float(np.median(trained["final_loss"]))
    assert float(row["learned"]) == trained["learned"]["share"] == float(np.mean(arrays["learned"]))


def test_a_worker_killed_after_the_first_result_changes_nothing(reference, scheduler, tmp_path) -> None:
    address, client = scheduler
    pids = client.run(os.getpid)  # worker address -> pid
    out = tmp_path / "killed"
    proc = _cli(*SWEEP, "--out", str(out), "--scheduler", address, "--seed-chunk", "10", "-q")
    try:
        _wait_for(lambda: _cells(out) or proc.poll() is not None, what="the first cell")
        done_at_kill = len(_cells(out))
        victim = next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=120)
    finally:
        _stop(proc)
    assert proc.returncode == 0, stderr
    assert done_at_kill < CELLS  # the kill came while there was work left
    assert _table(out / "results.csv") == _table(reference / "results.csv")
    client.wait_for_workers(2, timeout=60)  # the nanny brought a new worker up
    assert victim not in client.run(os.getpid).values()


def test_a_killed_driver_resumes_with_only_the_missing_cells(reference, tmp_path) -> None:
    out = tmp_path / "resumed"
    proc = _cli(*SWEEP, "--out", str(out), "-q")
    try:
        _wait_for(lambda: len(_cells(out)) >= 2 or proc.poll() is not None, what="two cells")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        _stop(proc)
    before = _cells(out)
    assert 2 <= len(before) < CELLS and not (out / "results.csv").exists()
    stamps = {key: (out / "cells" / f"{key}.npz").stat().st_mtime_ns for key in before}
    assert main([*SWEEP, "--out", str(out), "--json"]) == 0
    assert _table(out / "results.csv") == _table(reference / "results.csv")
    # The rerun computed exactly the cells that were missing, and left the others' files alone.
    assert stamps == {key: (out / "cells" / f"{key}.npz").stat().st_mtime_ns for key in before}
    assert _cells(out) == _cells(reference)


def test_rerun_reports_computed_cells(reference, capsys) -> None:
    assert main([*SWEEP, "--out", str(reference), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["computed"] == [] and set(result["cell_keys"]) == _cells(reference)
    assert main([*SWEEP, "--out", str(reference)]) == 0
    assert f"done: 0 cells computed, {CELLS} reused" in capsys.readouterr().err


def test_ctrl_c_exits_130_and_the_rerun_finishes(reference, tmp_path) -> None:
    out = tmp_path / "interrupted"
    proc = _cli(*SWEEP, "--out", str(out))
    try:
        _wait_for(lambda: len(_cells(out)) >= 1 or proc.poll() is not None, what="a cell")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        _stop(proc)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "rerun the same command" in stderr
    assert 1 <= len(_cells(out)) < CELLS
    assert main([*SWEEP, "--out", str(out), "-q"]) == 0
    assert _table(out / "results.csv") == _table(reference / "results.csv")


def _worker_settings() -> tuple[str | None, bool]:
    import dask

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), dask.config.get("distributed.worker.profile.enabled")


def test_local_workers_run_tasks_in_the_order_given_without_a_malloc_trim() -> None:
    """The driver orders tasks costly first, so the engine must keep that order; and Dask's malloc trim
    (which made every array above 128 KiB a fresh mmap, a cell twice as slow) and its profiler are off."""
    engine = DaskEngine(workers=1)
    try:
        assert set(engine.client.run(_worker_settings).values()) == {(None, False)}
        order = [task for task, _ in engine.map(abs, [5, -3, 8, 1, -9, 2, 7])]
    finally:
        engine.close()
    assert order == [5, -3, 8, 1, -9, 2, 7]
