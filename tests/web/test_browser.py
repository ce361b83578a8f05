"""The explorer and the playground in a real browser: Playwright driving the system's Chromium, headless.

The browser is Debian's ``chromium``, never a ``playwright install`` download: the
``browser`` fixture of ``tests/conftest.py`` finds it, and skips these tests without
it (a failure under CI). Screenshots go to ``test-artifacts/`` (git-ignored) for a
person to look at.
"""

from __future__ import annotations

import math
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.train.recording import Recorder
from backproplab.web import write_explorer

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page(open_page):
    p = open_page(viewport={"width": 1400, "height": 1100})
    yield p
    p.context.close()


def wait_until(page, condition: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression until it is true (the explorer's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({condition})"):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


# --- the explorer ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xor_recording():
    """The report's XOR run: 2-8-1 sigmoid, SGD lr 0.1, batch 4, 2000 epochs."""
    X, y = data.logic_table("xor")
    rec = Recorder(X, y, title="XOR — 2-8-1 sigmoid, the report's setup")
    bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=2000, batch_size=4, progress=False, callbacks=[rec])
    return rec.recording


def drawing(page) -> dict:
    return page.evaluate("""() => ({
        widths: [...document.querySelectorAll('#network line.edge')].map((e) => e.getAttribute('stroke-width')),
        colors: [...document.querySelectorAll('#network line.edge')].map((e) => e.getAttribute('stroke')),
        boundary: document.getElementById('boundary').toDataURL(),
        marker: document.querySelector('#loss .marker').getAttribute('x1'),
        gradMarker: document.querySelector('#gradflow .marker').getAttribute('x1'),
        label: document.getElementById('epoch-label').textContent,
        predictions: document.getElementById('predictions').textContent,
    })""")


def set_frame(page, f: int) -> None:
    page.evaluate("(f) => { const s = document.getElementById('epoch'); s.value = f; "
                  "s.dispatchEvent(new Event('input', { bubbles: true })); }", f)


def test_explorer_opens_from_disk_and_follows_the_slider(page, tmp_path, xor_recording):
    path = write_explorer(xor_recording, tmp_path / "xor.html")
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    last = drawing(page)
    assert last["label"] == "epoch 2000 / 2000"
    assert len(last["widths"]) == 2 * 8 + 8 * 1
    set_frame(page, 0)
    first = drawing(page)
    assert first["label"] == "epoch 0 / 2000"
    assert first["widths"] != last["widths"], "edge widths did not follow the epoch"
    assert first["boundary"] != last["boundary"], "the decision boundary did not change"
    assert float(first["marker"]) < float(last["marker"]), "the loss marker did not move left"
    assert float(first["gradMarker"]) < float(last["gradMarker"])
    assert first["predictions"] != last["predictions"]
    # Colours are the weights' signs.
    W = xor_recording.arrays["p:0.W"][0].ravel()
    positive = [c == "rgb(214,96,77)" for c in first["colors"][: W.size]]
    assert positive == (W >= 0).tolist()
    page.click("#step-fwd")
    assert drawing(page)["label"] == "epoch 10 / 2000"
    screenshot(page, "explorer-xor-epoch10.png")
    assert page.errors == []


def test_explorer_hover_shows_forward_and_backward_values(page, tmp_path, xor_recording):
    page.goto(write_explorer(xor_recording, tmp_path / "xor.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    set_frame(page, 100)
    page.select_option("#probe", "2")  # input (1, 0)
    page.hover("circle.unit[data-layer='1'][data-unit='3']")
    text = page.inner_text("#tooltip")
    values = {k: float(v) for k, v in (line.split(" = ")[-2:] for line in text.splitlines() if " = " in line)}
    rec = xor_recording.arrays
    assert "epoch 1000" in text and "input (1, 0)" in text
    assert math.isclose(values["pre-activation z"], rec["z:0"][100, 2, 3], rel_tol=1e-3)
    assert math.isclose(values["activation a"], rec["a:0"][100, 2, 3], rel_tol=1e-3)
    assert math.isclose(values["∂L/∂z"], rec["delta:0"][100, 2, 3], rel_tol=1e-3)
    screenshot(page, "explorer-xor-hover.png")


def test_explorer_plays(page, tmp_path, xor_recording):
    page.goto(write_explorer(xor_recording, tmp_path / "xor.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    set_frame(page, 0)
    page.click("#play")
    wait_until(page, "Number(document.body.dataset.frame) >= 5")
    page.click("#play")
    stopped = int(page.evaluate("document.body.dataset.frame"))
    page.wait_for_timeout(300)  # paused: nothing advances (not a timing assertion: any delay shows a change)
    assert int(page.evaluate("document.body.dataset.frame")) == stopped


def test_explorer_writes_a_note_when_a_gradient_vanishes(page, tmp_path):
    """Eight sigmoid layers: the first layer's gradient is over a thousand times weaker, and the page says so."""
    X, y = data.logic_table("xor")
    rec = Recorder(X, y)
    bp.fit(bp.mlp([2, *[6] * 8, 1], seed=0), X, y, epochs=20, batch_size=4, progress=False, callbacks=[rec])
    page.goto(write_explorer(rec.recording, tmp_path / "deep.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    notes = page.inner_text("#notes")
    assert notes.startswith("A vanishing gradient: hidden 1 (")
    assert "hidden 8" not in notes  # the layers near the output get their share
    assert page.inner_text("#health").count("vanishing") >= 1
    screenshot(page, "explorer-vanishing.png")


# --- the playground --------------------------------------------------------------------------
@pytest.fixture
def playground():
    pytest.importorskip("uvicorn", reason="the playground needs the web extra (starlette, uvicorn)")
    import uvicorn

    from backproplab.web.server import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                          timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the playground server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/"
    app.state.playground.closing = True
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "the playground server did not stop"


def epoch(page) -> int:
    return int(page.evaluate("document.body.dataset.epoch"))


def test_playground_trains_live_and_checks_gradients(browser, page, playground):
    page.goto(playground)
    page.wait_for_selector("body[data-epoch='0']")
    first_loss = float(page.evaluate("document.body.dataset.loss"))
    page.click("#play")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 400")
    page.click("#play")  # pause
    page.wait_for_selector("#play:has-text('play')")
    frames = int(page.evaluate("document.body.dataset.frames"))
    assert frames >= 3, "frames did not stream"
    loss = float(page.evaluate("document.body.dataset.loss"))
    assert loss < 0.5 * first_loss, f"the loss did not fall: {first_loss} -> {loss}"
    page.click("#gradcheck")
    page.wait_for_selector(".verdict.pass, .verdict.fail")
    verdict = page.inner_text("#verdict")
    assert "PASSED" in verdict and "|a − n| ≤ 1e-9 + 1e-6 (|a| + |n|)" in verdict, verdict
    screenshot(page, "playground-xor.png")

    # Closing the page keeps the session; a new page resumes where training stands.
    stopped = epoch(page)
    page.close()
    again = browser.new_page()
    again.goto(playground)
    again.wait_for_selector("body[data-epoch]")
    assert epoch(again) == stopped
    again.click("#step")
    again.wait_for_function(f"Number(document.body.dataset.epoch) === {stopped + 1}")
    again.close()


def test_playground_refuses_bad_parameters_on_the_page(page, playground):
    page.goto(playground)
    page.wait_for_selector("body[data-epoch]")
    page.fill("#lr", "-1")
    page.click("#apply")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "lr (learning rate) must be > 0 and <= 10, got -1.0"
    page.fill("#lr", "0.02")
    page.fill("#hidden", "8, 8")
    page.select_option("#dataset", "moons")
    page.select_option("#optimizer", "adam")
    page.fill("#batch_size", "32")
    page.click("#apply")
    page.wait_for_selector("#error", state="hidden")
    page.wait_for_function("document.querySelectorAll('#network circle.unit').length === 2 + 8 + 8 + 1")
    page.click("#play")
    page.wait_for_function("Number(document.body.dataset.epoch) >= 100")
    page.click("#play")
    screenshot(page, "playground-moons.png")
    assert np.isfinite(float(page.evaluate("document.body.dataset.loss")))
    assert page.errors == [] or all("400" in e for e in page.errors)  # the refused request is logged, nothing else


# --- issue 11: what the pages show must be true ---------------------------------------------------
def test_explorer_renders_a_run_of_150000_epochs(page, tmp_path):
    """Math.min(...losses) overflowed the call stack past ~125k epochs and left the page blank."""
    X, y = data.logic_table("xor")
    rec = Recorder(X, y, max_frames=20)
    bp.fit(bp.mlp([2, 2, 1], seed=0), X, y, epochs=150_000, batch_size=4, progress=False, callbacks=[rec])
    page.goto(write_explorer(rec.recording, tmp_path / "long.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.errors == []
    assert page.inner_text("#epoch-label") == "epoch 150000 / 150000"
    assert len(page.get_attribute("#loss path.series", "d")) > 1000, "the loss curve was not drawn"
    screenshot(page, "explorer-150000-epochs.png")


def test_explorer_arrow_keys_step_after_a_button_was_clicked(page, tmp_path, xor_recording):
    page.goto(write_explorer(xor_recording, tmp_path / "xor.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.click("#step-back")  # the button keeps the focus
    frame = int(page.evaluate("document.body.dataset.frame"))
    page.keyboard.press("ArrowLeft")
    assert int(page.evaluate("document.body.dataset.frame")) == frame - 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert int(page.evaluate("document.body.dataset.frame")) == frame + 1


def test_explorer_labels_the_value_before_batch_norm_as_such(page, tmp_path):
    X, y = data.logic_table("xor")
    rec = Recorder(X, y)
    net = bp.mlp([2, 4, 1], batch_norm=True, seed=0)
    bp.fit(net, X, y, epochs=20, batch_size=4, progress=False, callbacks=[rec])
    assert rec.recording.meta["batch_norm"] == [True, False]
    page.goto(write_explorer(rec.recording, tmp_path / "bn.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.hover("circle.unit[data-layer='1'][data-unit='0']")
    text = page.inner_text("#tooltip")
    assert "before batch norm" in text and "pre-activation" not in text
    z = float(next(line for line in text.splitlines() if "before batch norm" in line).split(" = ")[-1])
    assert math.isclose(z, rec.recording.arrays["z:0"][-1, 0, 0], rel_tol=1e-3, abs_tol=1e-6)
    screenshot(page, "explorer-batch-norm-hover.png")
    page.hover("circle.unit[data-layer='2'][data-unit='0']")  # the output layer has no batch norm
    assert "pre-activation z" in page.inner_text("#tooltip")


@pytest.mark.parametrize("button", ["#reset", "#apply"])
def test_playground_reset_and_apply_clear_the_old_loss_curve(page, playground, button):
    page.goto(playground)
    page.wait_for_selector("body[data-epoch='0']")
    assert page.locator("#loss path.series").count() == 0
    page.click("#step")
    page.click("#step")
    page.wait_for_selector("body[data-epoch='2']")
    assert page.locator("#loss path.series").count() == 1
    frames = int(page.evaluate("document.body.dataset.frames"))
    page.click(button)
    wait_until(page, f"Number(document.body.dataset.frames) > {frames}")
    assert epoch(page) == 0
    assert page.locator("#loss path.series").count() == 0, "the old run's loss curve is still drawn"
    assert page.inner_text("#status").startswith("epoch 0")


def test_explorer_of_a_multi_class_run_is_titled_with_its_network(page, tmp_path):
    """`train --data digits --hidden 32 --output softmax` was titled "digits — 2-32-1 sigmoid"."""
    pytest.importorskip("sklearn", reason="digits comes from scikit-learn")
    from backproplab.cli import main

    out = tmp_path / "digits"
    assert main(["train", "--data", "digits", "--hidden", "32", "--output", "softmax", "--epochs", "3",
                 "--out", str(out), "-q"]) == 0
    assert main(["explore", str(out), "-q"]) == 0
    page.goto((out / "explorer.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    heading = page.inner_text("h1")
    assert heading.startswith("digits — 64-32-10 sigmoid, softmax output, SGD lr 0.1, 3 epochs"), heading
    assert page.title() == heading
    assert "network 64–32–10" in page.inner_text("#summary")
    assert page.errors == []
