"""The tutorial notebook and the progress bars, executed in a real kernel: what each cell's output carries.

No mocks: nbclient starts an ipykernel, runs the cells and records every output
(MIME bundles, display updates, widget states), as Jupyter would store them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbkernel import TUTORIAL, WIDGET_VIEW, execute, outputs, widget_states

LIMIT = 60_000


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Any:
    nb = nbformat.read(TUTORIAL, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys\nprint(sorted(m for m in ('matplotlib.pyplot', 'matplotlib_inline.backend_inline') "
        "if m in sys.modules))"))
    return execute(nb, tmp_path_factory.mktemp("tutorial"))


def cell_of(nb: Any, source_start: str) -> Any:
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start))


def result(cell: Any) -> dict[str, Any]:
    (out,) = [o for o in outputs(cell) if o["output_type"] == "execute_result"]
    return out["data"]


def size(data: dict[str, Any]) -> int:
    return len(json.dumps(data))


def test_every_output_is_rich_small_and_its_text_unchanged(tutorial: Any) -> None:
    import backproplab as bp

    net = result(cell_of(tutorial, "net = bp.mlp"))
    assert "text/html" in net and "33 parameters per network" in net["text/html"]
    assert net["text/plain"] == repr(bp.mlp([2, 8, 1], seed=0))  # the repr is the one of before
    history = result(cell_of(tutorial, "recorder = bp.Recorder"))
    assert history["text/plain"] == "History(epochs=2000, metrics=['loss', 'accuracy'])"
    assert "History: 2000 epochs" in history["text/html"] and "<svg" in history["text/html"]
    check = result(cell_of(tutorial, "bp.gradcheck"))
    assert check["text/plain"].startswith("GradcheckResult(PASSED") and "PASSED" in check["text/html"]
    worked = result(cell_of(tutorial, "from backproplab.explain.trace"))
    assert "### Backward" in worked["text/markdown"] and "$\\delta$" in worked["text/markdown"]
    many = result(cell_of(tutorial, "nets = bp.mlp"))
    assert "100 runs" in many["text/html"] and "<polygon" in many["text/html"]
    for data in (net, history, check, worked, many):
        assert size(data) < LIMIT


def test_figures_are_png_in_a_kernel_that_never_imported_pyplot(tutorial: Any) -> None:
    for start in ("history.plot()", "from backproplab.viz import decision_boundary"):
        data = result(cell_of(tutorial, start))
        assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
        assert data["text/plain"].startswith("<Figure size")
    last = outputs(tutorial.cells[-1])
    assert last == [{"name": "stdout", "output_type": "stream", "text": "[]\n"}]


def test_fit_shows_a_bar_that_ends_at_the_epochs(tutorial: Any) -> None:
    cell = cell_of(tutorial, "recorder = bp.Recorder")
    views = [o for o in outputs(cell) if o["output_type"] == "display_data" and WIDGET_VIEW in o["data"]]
    assert len(views) == 1
    assert not [o for o in outputs(cell) if o.get("name") == "stderr"]
    states = widget_states(tutorial)
    bar = states[views[0]["data"][WIDGET_VIEW]["model_id"]]  # tqdm's HBox: label, progress, count
    progress = [states[ref.removeprefix("IPY_MODEL_")] for ref in bar["children"]]
    (count,) = [s for s in progress if s.get("_model_name") in ("FloatProgressModel", "IntProgressModel")]
    assert (count["value"], count["max"]) == (2000, 2000)
    text = progress[-1]["value"].replace("\u2007", " ")  # tqdm's figure spaces
    assert "2000/2000" in text and "loss 0." in text  # the loss in the postfix


def test_progress_false_shows_nothing_at_all(tutorial: Any) -> None:
    cell = cell_of(tutorial, "nets = bp.mlp")
    kinds = [(o["output_type"], o.get("name")) for o in outputs(cell)]
    assert kinds == [("stream", "stdout"), ("execute_result", None)]  # its print and its value, no bar


def test_explorer_and_playground_display(tutorial: Any) -> None:
    page = result(cell_of(tutorial, "bp.explore"))
    assert page["text/html"].startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert 'sandbox="allow-scripts"' in page["text/html"] and "height:700px" in page["text/html"]
    widget = result(cell_of(tutorial, "from backproplab.notebook import Playground"))
    model = widget_states(tutorial)[widget[WIDGET_VIEW]["model_id"]]
    assert model["epoch"] == 0 and model["snapshot"]["sizes"] == [2, 8, 1]


@pytest.fixture(scope="module")
def progress_cells(tmp_path_factory: pytest.TempPathFactory) -> Any:
    setup = ("import backproplab as bp\nfrom backproplab.data import logic_table\n"
             "from backproplab.experiments.reproduce import reproduce\nX, y = logic_table('xor')")
    cells = [setup,
             "bp.fit(bp.mlp([2, 4, 1]), X, y, epochs=300, progress=False);",
             "table = bp.sweep('xor', grid={'model.hidden': [[2], [4]]}, runs=4)",
             "table = bp.sweep('xor', grid={'model.hidden': [[2], [4]]}, runs=4, progress=False)",
             "result = reproduce(seeds=0)",
             "live = bp.LivePlot(every=100)\nbp.fit(bp.mlp([2, 4, 1]), X, y, epochs=450, progress=False, "
             "callbacks=[live]);\nprint(live.redraws)",
             "bp.fit(bp.mlp([2, 4, 1]), X, y, epochs=50, live=10, progress=False);"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return execute(nb, tmp_path_factory.mktemp("progress"))


def bar_count(nb: Any, cell: Any) -> tuple[float, float]:
    (view,) = [o["data"][WIDGET_VIEW]["model_id"] for o in outputs(cell) if WIDGET_VIEW in o.get("data", {})]
    states = widget_states(nb)
    children = [states[ref.removeprefix("IPY_MODEL_")] for ref in states[view]["children"]]
    (count,) = [s for s in children if s.get("_model_name") in ("FloatProgressModel", "IntProgressModel")]
    return count["value"], count["max"]


def test_sweep_and_reproduce_show_bars_and_false_means_nothing(progress_cells: Any) -> None:
    cells = progress_cells.cells
    assert outputs(cells[1]) == []
    assert bar_count(progress_cells, cells[2]) == (2, 2)
    assert outputs(cells[3]) == []
    assert bar_count(progress_cells, cells[4]) == (3, 3)  # AND, OR, XOR with seeds=0


def test_live_plot_redraws_one_display_in_place(progress_cells: Any) -> None:
    cell = progress_cells.cells[5]
    shown = [o for o in outputs(cell) if o["output_type"] == "display_data"]
    assert len(shown) == 1  # updated in place, never appended
    assert "epoch 450 of 450" in shown[0]["data"]["text/html"] and "<svg" in shown[0]["data"]["text/html"]
    assert outputs(cell)[-1]["text"] == "5\n"  # epochs 100, 200, 300, 400 and the last
    assert "epoch 50 of 50" in outputs(progress_cells.cells[6])[0]["data"]["text/html"]


def test_import_backproplab_imports_no_ipython_nor_matplotlib() -> None:
    code = ("import sys, backproplab, backproplab.notebook; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'IPython', 'matplotlib', 'anywidget', "
            "'ipywidgets', 'ipykernel'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "[]\n"


def test_tutorial_is_committed_without_outputs() -> None:
    nb = nbformat.read(Path(TUTORIAL), as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
