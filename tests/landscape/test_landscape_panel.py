"""The explorer's landscape panel: the PCA plane's data in the page, and a marker that follows the epoch slider."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.landscape import Trajectory
from backproplab.train.recording import Recorder
from backproplab.web import write_explorer
from backproplab.web.explorer import LANDSCAPE_STEPS, explorer_data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def recording():
    X, y = data.logic_table("xor")
    rec = Recorder(X, y, max_frames=50, title="XOR — 2-8-1, landscape panel")
    bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=1000, batch_size=4, progress=False, callbacks=[rec])
    return rec.recording


def test_the_page_data_holds_the_plane_and_the_path(recording):
    payload = explorer_data(recording)
    assert payload["arrays"]["landscape_loss"]["shape"] == [LANDSCAPE_STEPS, LANDSCAPE_STEPS]
    assert payload["arrays"]["landscape_path"]["shape"] == [recording.n_frames, 2]
    path = Trajectory.from_recording(recording)
    np.testing.assert_allclose(payload["landscape"]["true_loss"], path.true_loss(), rtol=1e-12)
    # The recording's own frame losses (measured by the recorder) are the true losses of the path.
    np.testing.assert_allclose(payload["landscape"]["true_loss"], recording.arrays["loss"], rtol=1e-9)


def test_batch_norm_recordings_get_no_panel():
    X, y = data.logic_table("xor")
    rec = Recorder(X, y, max_frames=5)
    bp.fit(bp.mlp([2, 4, 1], batch_norm=True), X, y, epochs=10, progress=False, callbacks=[rec])
    assert "landscape" not in explorer_data(rec.recording)


@pytest.mark.browser
def test_the_marker_follows_the_slider(open_page, tmp_path, recording):
    page = open_page(viewport={"width": 1400, "height": 1300})
    page.goto(write_explorer(recording, tmp_path / "xor.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("() => !document.getElementById('landscape-panel').hidden")

    def state(f: int) -> tuple[str, str]:
        page.evaluate("(f) => { const s = document.getElementById('epoch'); s.value = f; "
                      "s.dispatchEvent(new Event('input', { bubbles: true })); }", f)
        deadline = time.monotonic() + 10
        while page.evaluate("() => document.body.dataset.frame") != str(f):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return page.evaluate("() => [document.getElementById('landscape').toDataURL(), "
                             "document.getElementById('landscape-note').textContent]")

    first, last = state(0), state(recording.n_frames - 1)
    assert first[0] != last[0]  # the marker moved
    assert first[1].startswith("epoch 0:") and last[1].startswith("epoch 1000:")
    assert state(0) == first  # and comes back
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#landscape-panel").screenshot(path=str(ARTIFACTS / "landscape_panel.png"))
    page.context.close()
