"""The rich displays, called as Jupyter calls them: content, no leaking style, small, never raising.

The same objects are displayed in a real kernel by test_kernel_outputs.py; here each
``_repr_*_`` is read directly, which names the failing class at once.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.core import _html
from backproplab.data import logic_table
from backproplab.explain.trace import trace
from backproplab.explain.trace_text import to_markdown
from backproplab.train.recording import Recorder

X, y = logic_table("xor")
LIMIT = 60_000


def assert_contained(html: str) -> None:
    """No <style>/<script>/<link>, no class or id the notebook could share, nothing loaded from elsewhere."""
    assert len(html.encode()) < LIMIT
    assert not re.search(r"<(style|script|link|iframe)\b", html, re.I)
    assert not re.search(r"\b(class|id)=", html)
    assert not re.search(r"\b(src|href)=", html)


def test_network_table_counts_the_parameters() -> None:
    html = bp.mlp([2, 8, 1], seed=0)._repr_html_()
    assert_contained(html)
    assert "Network 2-8-1" in html and "33 parameters per network" in html
    assert html.count("<tr>") == 1 + 3 + 1  # header, three layers, the output row
    assert "(B, 8)" in html and "sigmoid (predict_proba)" in html
    stacked = bp.mlp([2, 4, 1], runs=7, activation="relu")._repr_html_()
    assert "(R, B, 4)" in stacked and "7 runs stacked" in stacked and ">relu<" in stacked


def test_gradcheck_verdict_and_rows() -> None:
    result = bp.gradcheck(bp.mlp([2, 4, 1], seed=0), X, y)
    html = result._repr_html_()
    assert_contained(html)
    assert "PASSED" in html and "#1a7f37" in html  # green
    assert all(f">{name}<" in html for name in result.errors)
    assert repr(result).startswith("GradcheckResult(PASSED")  # the text form is unchanged


def test_history_final_metrics_and_curve() -> None:
    history = bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=300, batch_size=4, progress=False)
    html = history._repr_html_()
    assert_contained(html)
    assert "History: 300 epochs" in html and _html.number(history.loss[-1]) in html
    assert "<svg" in html and "<polyline" in html and "<polygon" not in html
    band = bp.fit(bp.mlp([2, 8, 1], runs=5), X, y, epochs=50, progress=False)._repr_html_()
    assert "5 runs" in band and "<polygon" in band  # the band over the runs
    long = bp.History()
    for e in range(100_000):
        long.append(loss=1 / (e + 1))
    assert len(long._repr_html_()) < 20_000  # the curve is thinned to a few hundred points


def test_recording_is_a_summary() -> None:
    recorder = Recorder(X, y)
    bp.fit(bp.mlp([2, 8, 1]), X, y, epochs=400, progress=False, callbacks=[recorder])
    rec = recorder.recording
    assert repr(rec) == "Recording(frames=201, epochs=0..400, sizes=[2, 8, 1])"
    html = rec._repr_html_()
    assert_contained(html)
    assert "201, every 2 epochs" in html and "bp.explore" in html


def test_dataset_and_sweep_table() -> None:
    ds = data.load("moons", n_samples=100, val=0.2, test=0.2, seed=0)
    html = ds._repr_html_()
    assert_contained(html)
    assert ">60<" in html and ">class 1<" in html and "standardised" in html
    table = bp.sweep("xor", grid={"model.hidden": [[2], [4]]}, runs=4, progress=False)
    html = table._repr_html_()
    assert_contained(html)
    assert html.count("<tr>") == 3 and ">[2]<" in html and ">learned<" in html


def test_trace_shows_the_cli_markdown() -> None:
    t = trace(bp.mlp([2, 2, 1], seed=0), [1.0, 0.0], 1)
    assert t._repr_markdown_() == to_markdown(t)
    assert "### Backward" in t._repr_markdown_()


class Broken:
    def __repr__(self) -> str:
        return "Broken<&>"


@pytest.mark.parametrize("render", [_html.network_html, _html.gradcheck_html])
def test_a_display_never_raises(render) -> None:
    assert _html.safe(lambda: render(Broken()), Broken()) == "<pre>Broken&lt;&amp;&gt;</pre>"


def test_broken_objects_still_show_their_text() -> None:
    net = bp.mlp([2, 3, 1])
    net.layers = None  # a network in a broken state
    assert _html.safe(net._repr_html_, net).startswith("<pre>")
    history = bp.History()
    history.append(loss=np.array([np.nan, np.inf]))
    history._metrics["accuracy"] = "not a list"  # a history in a broken state
    assert history._repr_html_().startswith("<pre>History(")
    rec = Recorder(X, y)
    bp.fit(bp.mlp([2, 2, 1]), X, y, epochs=2, progress=False, callbacks=[rec])
    rec.recording.meta = None
    assert rec.recording._repr_html_().startswith("<pre>")


def test_history_plot_is_a_figure_that_shows_as_png() -> None:
    history = bp.fit(bp.mlp([2, 8, 1], runs=3), X, y, epochs=30, progress=False)
    fig = history.plot(title="xor")
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="no epochs"):
        bp.History().plot()


def test_history_plot_without_matplotlib_says_what_to_install() -> None:
    code = ("import sys; sys.modules['matplotlib'] = None\nimport backproplab as bp\n"
            "try:\n    bp.History().plot()\nexcept ImportError as exc:\n    print(exc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == 'History.plot needs matplotlib: pip install "backproplab[report]"\n'


def test_every_figure_of_the_package_shows_as_png() -> None:
    """No module builds a bare matplotlib Figure: each uses train.plot.Figure, which has _repr_png_."""
    src = Path(bp.__file__).parent
    bare = [str(p.relative_to(src)) for p in src.rglob("*.py") if p.name != "plot.py" or p.parent.name != "train"
            if re.search(r"from matplotlib\.figure import|matplotlib\.pyplot|\bplt\.", p.read_text(encoding="utf-8"))]
    assert bare == []
