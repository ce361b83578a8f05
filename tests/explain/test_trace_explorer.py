"""The explorer's hover shows the worked numbers of ``backproplab trace``: same values, with their formulas.

A recorded XOR run is opened in Chromium (Debian's, from the ``browser`` fixture of ``tests/conftest.py``:
skipped without it, a failure under CI); hovering a unit fills a table of (quantity, formula, value) rows,
which must equal ``trace`` of the recorded frame's parameters on the chosen input, in evaluation mode (the
recording's), to the four significant digits the page prints.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.explain.trace import trace
from backproplab.train.recording import Recorder
from backproplab.web import write_explorer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(open_page):
    return open_page()


def _rows(page, layer: int, unit: int) -> dict[str, tuple[str, float | None]]:
    page.hover(f"circle.unit[data-layer='{layer}'][data-unit='{unit}']")
    cells = page.evaluate("() => [...document.querySelectorAll('#tooltip table.worked tr')]"
                          ".map((tr) => [...tr.cells].map((td) => td.textContent))")
    return {q: (formula, float(v.replace("−", "-")) if v else None) for q, formula, v in cells}


def _close(shown: float | None, value: float) -> bool:
    return shown is not None and math.isclose(shown, value, rel_tol=6e-3, abs_tol=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_hover_numbers_are_the_traces(page, tmp_path, activation):
    X, y = data.logic_table("xor")
    rec = Recorder(X, y, title="XOR")
    bp.fit(bp.mlp([2, 3, 2, 1], activation=activation, seed=1), X, y, optimizer=bp.SGD(0.5), epochs=40,
           batch_size=4, progress=False, callbacks=[rec])
    arrays = rec.recording.arrays
    page.goto(write_explorer(rec.recording, tmp_path / "xor.html").as_uri())
    page.wait_for_selector("body[data-ready='1']")
    f = arrays["p:0.W"].shape[0] - 1  # the page opens on the last frame
    probe = 2
    page.select_option("#probe", str(probe))
    net = bp.mlp([2, 3, 2, 1], activation=activation, seed=1)
    net.set_params({name: arrays[f"p:{name}"][f] for name in net.params})
    x = arrays["probe_x"][probe]
    t = trace(net, x, arrays["probe_y"][probe], train=False)

    for layer, (k, unit) in ((1, (0, 2)), (2, (1, 1)), (3, (2, 0))):  # hidden 1, hidden 2, output
        traced, rows = t.layers[k], _rows(page, layer, unit)
        assert _close(rows["δ"][1], traced.delta[unit])
        assert _close(rows[f"∂L/∂b{unit + 1}"][1], traced.grad_b[unit])
        for i in range(traced.W.shape[0]):
            formula, shown = rows[f"∂L/∂W[{i + 1}, {unit + 1}]"]
            assert formula == f"aprev,{i + 1} · δ" and _close(shown, traced.grad_W[i, unit])
        if k < 2:  # hidden: the chain rule's two factors
            assert _close(rows["∂L/∂a"][1], traced.da[unit])
            assert rows["f′(z)"][0] == {"sigmoid": "a (1 − a)", "relu": "1 if z > 0 else 0"}[activation]
            assert _close(rows["f′(z)"][1], traced.fprime[unit])
        else:
            assert rows["δ"][0] == "p − y"
            assert _close(rows["p1"][1], traced.a[0])
    assert np.isfinite(t.loss) and page.errors == []
