"""A sweep never removes or replaces a file it did not write (issue 20, items 2 and 12); engines fail in one line.

``manifest.json`` lists what a sweep wrote; ``--overwrite`` removes only that (and
the sweep's own cells), and a folder that is not a sweep's is refused.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.experiments.config import load_config
from backproplab.sweeps.engines import EngineError, check_address
from backproplab.sweeps.store import MANIFEST, SweepDirError

XOR = load_config("xor").replace("training", epochs=3)


def _tree(path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_overwrite_removes_only_what_the_sweep_wrote(tmp_path) -> None:
    out = tmp_path / "s"
    bp.sweep(XOR, {"training.lr": [0.5, 1.0]}, runs=2, out=out)
    (out / "figures" / "fig1.png").write_bytes(b"the user's figure")
    (out / "cells" / "notes.txt").write_text("the user's notes")
    bp.sweep(XOR, {"training.lr": [2.0]}, runs=2, out=out, overwrite=True)
    assert (out / "figures" / "fig1.png").read_bytes() == b"the user's figure"
    assert (out / "cells" / "notes.txt").read_text() == "the user's notes"
    assert len(list((out / "cells").glob("*.npz"))) == 1  # the old sweep's cells went, the new one's is there
    assert "training.lr" in (out / "report.md").read_text()


def test_a_folder_with_a_users_own_sweep_toml_is_not_a_sweep(tmp_path, capsys) -> None:
    out = tmp_path / "mine"
    (out / "figures").mkdir(parents=True)
    files = {"sweep.toml": "# my own notes\n", "report.md": "my report\n", "figures/fig1.png": "png"}
    for name, text in files.items():
        (out / name).write_text(text)
    before = _tree(out)
    for overwrite in (False, True):
        with pytest.raises(SweepDirError, match=f"not a sweep directory \\(no {MANIFEST}"):
            bp.sweep(XOR, {"training.lr": [1.0]}, runs=2, out=out, overwrite=overwrite)
    assert main(["sweep", "xor", "--grid", "training.lr=[1.0]", "--runs", "2", "--out", str(out), "--overwrite"]) == 2
    assert "--out" in capsys.readouterr().err
    assert _tree(out) == before


def test_a_file_the_sweep_would_replace_but_did_not_write_is_refused(tmp_path) -> None:
    out = tmp_path / "s"
    bp.sweep(XOR, {"training.lr": [1.0]}, runs=2, out=out)
    manifest = (out / MANIFEST).read_text()
    (out / MANIFEST).write_text(manifest.replace('"report.md",', ""))  # as if report.md were someone else's
    (out / "report.md").write_text("mine")
    with pytest.raises(SweepDirError, match=r"report\.md was not written by this sweep"):
        bp.sweep(XOR, {"training.lr": [1.0]}, runs=2, out=out)
    assert (out / "report.md").read_text() == "mine"


def test_a_dangling_symlink_out_is_refused_and_nothing_claims_cells_were_kept(tmp_path, capsys) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    assert main(["sweep", "xor", "--grid", "training.lr=[1.0]", "--runs", "2", "--out", str(link)]) == 2
    err = capsys.readouterr().err
    assert "symbolic link to nothing" in err and "kept" not in err and "File exists" not in err
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(("address", "words"), [
    ("ucx://127.0.0.1:8786", "tcp://HOST:PORT"), ("127.0.0.1:8786", "tcp://HOST:PORT"),
    ("tcp://127.0.0.1", "tcp://HOST:PORT"), ("tcp://:8786", "tcp://HOST:PORT"), ("tcp://h:99999", "65535"),
    (8786, "tcp://HOST:PORT")])
def test_scheduler_addresses_are_checked(address, words) -> None:
    with pytest.raises(EngineError, match=words):
        check_address(address)


def _listener(kind: str) -> tuple[socket.socket, int]:
    """A socket on 127.0.0.1 that is not a Dask scheduler: silent, or greeting with a banner, or an HTTP server."""
    server = socket.create_server(("127.0.0.1", 0))
    kept = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            kept.append(conn)
            if kind == "banner":
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" * 4)
            elif kind == "http":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX sockets")
@pytest.mark.parametrize("kind", ["silent", "banner", "http"])
def test_something_that_is_not_dask_is_named_within_the_timeout(kind, capsys) -> None:
    pytest.importorskip("distributed")
    server, port = _listener(kind)
    try:
        start = time.monotonic()
        code = main(["sweep", "xor", "--grid", "training.lr=[1.0]", "--runs", "2", "--scheduler",
                     f"tcp://127.0.0.1:{port}", "--timeout", "1"])
        waited = time.monotonic() - start
    finally:
        server.close()
    err = capsys.readouterr().err
    assert code == 2 and "no Dask scheduler answered" in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1 and "memory" not in err
    assert waited < 60  # it used to hang for ever


def test_sigterm_with_local_workers_is_one_line_and_exit_143(tmp_path) -> None:
    """It exited 143 silently, with a leaked-semaphore warning from the workers left behind."""
    pytest.importorskip("distributed")
    import signal
    import subprocess

    from console import start

    proc = start("sweep", "xor", "--grid", "training.lr=[0.1, 0.2, 0.3, 0.4]", "--runs", "200", "--epochs", "3000",
                 "--workers", "2", "--out", "s", cwd=tmp_path, text=True, stdout=subprocess.DEVNULL,
                 stderr=subprocess.PIPE)
    err = ""
    try:
        while "to compute" not in err:
            line = proc.stderr.readline()
            if not line:
                break
            err += line
        time.sleep(0.5)  # the workers are at it
        proc.send_signal(signal.SIGTERM)
        err += proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:  # pragma: no cover - only if it hung
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "leaked" not in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) <= 2, err  # the status line and the stop line


def test_a_task_whose_workers_keep_dying_is_an_engine_error_not_a_bug(monkeypatch) -> None:
    """Dask gives up on a task after its workers die three times (KilledWorker); that is the machine, not a bug."""
    distributed = pytest.importorskip("distributed")
    from distributed.scheduler import KilledWorker

    from backproplab.sweeps.engines import DaskEngine

    class Future:
        key = "task-0"

        def result(self):
            raise KilledWorker("task-0", None, 3)

    class Client:
        def submit(self, fn, task, **options):
            return Future()

    engine = object.__new__(DaskEngine)  # no cluster: only map's handling of the lost task is under test
    engine.client = Client()
    monkeypatch.setattr(distributed, "as_completed", lambda futures: iter(futures))
    with pytest.raises(EngineError, match="worker died each time it ran it"):
        list(engine.map(lambda task: task, ["a task"]))
