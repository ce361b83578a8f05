"""The README's playground address is the one ``backproplab playground`` listens on (issue 11, part 3).

The test reads the port from the README's ``backproplab playground  # http://127.0.0.1:PORT`` line, starts
the real command with its defaults, and connects there. Helpers on one machine run this at the same time:
a lock file serialises them, and a port held by some other program skips (except under CI).
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from backproplab.cli import build_parser

from console import start

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_port() -> int:
    found = re.findall(r"backproplab playground\s+#\s+http://127\.0\.0\.1:(\d+)", README.read_text(encoding="utf-8"))
    assert len(found) == 1, "the README names the playground's address once"
    return int(found[0])


def test_the_readme_port_is_the_default():
    assert readme_port() == build_parser().parse_args(["playground"]).port


def test_the_playground_answers_at_the_readme_address():
    pytest.importorskip("uvicorn", reason="the playground needs the web extra (starlette, uvicorn)")
    port = readme_port()
    with open(Path(tempfile.gettempdir()) / f"backproplab-port-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with socket.create_server(("127.0.0.1", port)):
                pass
        except OSError:
            if os.environ.get("CI", "").lower() == "true":
                raise
            pytest.skip(f"port {port} is taken by another program on this machine")
        proc = start("playground", "--no-browser", "--quiet", stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                        body = page.read().decode()
                    break
                except OSError:
                    assert proc.poll() is None, proc.stderr.read()
                    assert time.monotonic() < deadline, "the playground did not answer"
                    time.sleep(0.1)
            assert "backproplab playground" in body
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                err = proc.communicate(timeout=30)[1]
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                err = proc.communicate()[1]
        assert "Traceback" not in err and "http://" not in err, "--quiet prints no address"
