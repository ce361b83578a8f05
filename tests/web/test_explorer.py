"""The explorer page: self-contained, offline, and carrying the recording faithfully."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

import backproplab as bp
from backproplab.train.recording import Recorder, health_flags
from backproplab.web import explorer_html, write_explorer
from backproplab.web.assets import STATIC_FILES, inline_modules, read_static
from backproplab.web.explorer import explorer_data, pack, quantize

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


@pytest.fixture(scope="module")
def recording():
    rec = Recorder(X, Y, title="XOR <b>test</b>")
    bp.fit(bp.mlp([2, 3, 1], seed=0), X, Y, epochs=60, batch_size=4, progress=False, callbacks=[rec])
    return rec.recording


def unpack(spec: dict) -> np.ndarray:
    dtype = {"f4": "<f4", "u1": "u1", "i1": "i1"}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["b64"]), dtype=dtype).reshape(spec["shape"])


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="bp-data">(.*?)</script>', page, re.S)
    assert match, "no embedded data"
    return json.loads(match.group(1))


def test_page_is_self_contained(recording):
    page = explorer_html(recording)
    assert not re.search(r"https?://", page.replace("http://www.w3.org/2000/svg", "")), "the page names a URL"
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "__DATA__" not in page and "/*__JS__*/" not in page and "/*__CSS__*/" not in page
    assert not re.search(r"^\s*(import|export)\b", page, re.M), "module syntax left for the browser to resolve"
    assert "default-src 'none'" in page  # the content security policy forbids every fetch


def test_embedded_arrays_decode_to_the_recording(recording):
    data = embedded(explorer_html(recording))
    assert data["epochs"] == recording.epochs.tolist()
    assert data["meta"]["sizes"] == [2, 3, 1]
    for name in ("p:0.W", "loss_history", "delta:0", "grad_norm"):
        np.testing.assert_array_equal(unpack(data["arrays"][name]), recording.arrays[name].astype(np.float32))
    grid = unpack(data["arrays"]["grid"])
    assert grid.dtype == np.uint8
    assert np.max(np.abs(grid / 255 - recording.arrays["grid"])) <= 0.5 / 255 + 1e-7
    flags = unpack(data["arrays"]["health_flags"])
    np.testing.assert_array_equal(flags, health_flags(recording.arrays["grad_norm"], recording.arrays["update_ratio"]))


def test_title_is_escaped_and_script_cannot_be_closed_early(recording):
    page = explorer_html(recording, title="a </script><script>alert(1)</script> & b")
    assert "<title>a &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; b</title>" in page
    assert page.count("</script>") == 2  # the data's and the code's own closing tags, nothing else
    rec = recording
    rec_meta = dict(rec.meta)
    rec.meta["title"] = "</script>"
    try:
        assert embedded(explorer_html(rec))["meta"]["title"] == "</script>"
    finally:
        rec.meta.clear()
        rec.meta.update(rec_meta)


def test_write_explorer(tmp_path, recording):
    path = write_explorer(recording, tmp_path / "sub" / "x.html")
    assert path.read_text(encoding="utf-8") == explorer_html(recording)


def test_pack_and_quantize():
    a = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
    np.testing.assert_array_equal(unpack(pack(a)), a.astype(np.float32))
    assert quantize(np.array([0.0, 0.5, 1.0, 1.2, -0.1])).tolist() == [0, 128, 255, 255, 0]


def test_nan_metadata_becomes_null(recording):
    saved = dict(recording.meta)
    recording.meta["extent"] = [float("nan"), 1.0, 0.0, 1.0]
    try:
        assert explorer_data(recording)["meta"]["extent"][0] is None
    finally:
        recording.meta.clear()
        recording.meta.update(saved)


def test_inlined_modules_hold_each_module_once():
    script = inline_modules("explorer.js")
    assert script.count("// ---- common.js ----") == 1 and script.count("// ---- explorer.js ----") == 1
    assert script.index("common.js ----") < script.index("explorer.js ----")
    assert "function createNetworkView" in script


@pytest.mark.parametrize("name", ["../__init__.py", "missing.js", "/etc/passwd", ""])
def test_only_shipped_static_files_are_read(name):
    with pytest.raises(ValueError, match="unknown static file"):
        read_static(name)


def test_every_static_file_ships():
    for name in STATIC_FILES:
        assert read_static(name).strip(), name


def test_explorer_refuses_other_objects():
    with pytest.raises(TypeError, match="Recording"):
        explorer_html({"meta": {}})
