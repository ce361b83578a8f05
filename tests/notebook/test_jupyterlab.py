"""A real JupyterLab, driven by Chromium: the tutorial runs, the widget steps, the explorer draws, nothing spills.

The test starts ``jupyter lab`` on a free 127.0.0.1 port (no token, no browser of its
own, its settings and runtime files in a temporary folder), opens the tutorial
notebook in Playwright's Chromium (the ``browser`` fixture of tests/conftest.py),
runs all cells, then checks what a person would see: the playground's step button
moves its epoch counter, the explorer's iframe draws its decision boundary, the
notebook's own prompts keep their width and font, and no request leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbkernel import TUTORIAL

pytestmark = pytest.mark.browser

PROMPT = """() => {
  const prompt = document.querySelector('.jp-Cell .jp-InputPrompt');
  const style = getComputedStyle(prompt);
  return [prompt.getBoundingClientRect().width, style.fontFamily, style.fontSize];
}"""
BOUNDARY_COLOURS = """() => {
  const canvas = document.getElementById('boundary');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4 * 97) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
  return colours.size;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("jupyterlab")
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    root.mkdir()
    shutil.copy(TUTORIAL, root / TUTORIAL.name)
    port = free_port()
    home = root.parent / "jupyter-home"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
               "--ServerApp.disable_check_xsrf=True",  # the test's own POST below (127.0.0.1 only)
               "--allow-root"]  # CI runs as root
    log = home.parent / "lab.log"
    with open(log, "wb") as sink:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(command, env=env, cwd=root, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.3)
        # The notebook's kernel, started before the page opens: JupyterLab then asks no "Select Kernel" question.
        body = json.dumps({"path": TUTORIAL.name, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
        request = urllib.request.Request(f"{url}/api/sessions", data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60):
            pass
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_run_all_then_step_the_widget_and_see_the_explorer(lab: str, open_page: Any) -> None:
    page = open_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{lab}/lab/tree/{Path(TUTORIAL).name}")
    page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputPrompt", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=60_000)  # the kernel is connected
    before = page.evaluate(PROMPT)

    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # not awaited
    status = page.locator('[data-role="status"]')  # inside the widget's shadow root: Playwright's CSS pierces it
    status.wait_for(timeout=90_000)  # the last cell ran: the playground is drawn
    page.wait_for_function("() => document.querySelector('[data-epoch=\"0\"]')")
    assert status.inner_text().startswith("epoch 0 ")
    for epoch in (1, 2):
        page.locator('button[data-action="step"]').click()
        page.wait_for_function(f"() => document.querySelector('[data-epoch=\"{epoch}\"]')", timeout=30_000)
        assert status.inner_text().startswith(f"epoch {epoch} ")

    iframe = page.locator('iframe[title="backproplab explorer"]')
    iframe.scroll_into_view_if_needed()
    explorer = iframe.element_handle().content_frame()
    explorer.wait_for_selector("#boundary")
    explorer.wait_for_function(f"() => ({BOUNDARY_COLOURS})() > 10", timeout=30_000)  # drawn, not blank

    assert page.evaluate(PROMPT) == before  # the explorer's and the displays' styles stayed inside them
    off = [url for url in requests if not url.startswith((lab, "data:", "blob:", "about:"))]
    assert off == []
    assert [e for e in page.errors if "favicon" not in e] == []
    page.context.close()
