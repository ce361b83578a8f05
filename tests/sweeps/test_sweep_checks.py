"""Before any work a sweep is sized, costed and every cell passes ``train``'s checks (issue 20, items 4, 5, 12).

Each refusal must come before any training and leave nothing on disk; the
library names its parameters (``runs``), the command line its flags (``--runs``).
"""

from __future__ import annotations

import time

import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.experiments.config import ConfigError, load_config
from backproplab.sweeps import run as sweep_run
from backproplab.sweeps.checks import LIMIT_SECONDS, estimate, run_seconds
from backproplab.sweeps.spec import make_spec, parse_grid

XOR = load_config("xor").replace("training", epochs=20)
MOONS = XOR.replace("data", name="moons", n_samples=60).replace("training", batch_size=8)
#: Four 178-value axes: 178**4 > 10**9 cells.
HUGE = {f"training.{key}": list(range(1, 179)) for key in ("lr", "epochs", "batch_size", "lr_step")}


@pytest.fixture
def no_training(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a refused sweep trained something")

    monkeypatch.setattr(sweep_run, "train", refuse)


def _refused(tmp_path, match: str, *args, **kwargs) -> str:
    with pytest.raises(ConfigError, match=match) as info:
        bp.sweep(*args, out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()  # nothing written for a refused sweep
    return str(info.value)


def test_a_billion_cell_grid_is_refused_at_once_with_its_size(tmp_path, no_training) -> None:
    start = time.perf_counter()
    message = _refused(tmp_path, "1,003,875,856 cells x 100 runs", XOR, HUGE)
    assert time.perf_counter() - start < 30  # generous: it must not list 10**9 cells (measured: well under 1 s)
    assert "allow_large" in message and "--" not in message


def test_a_hundred_million_draws_are_refused_before_drawing(tmp_path, no_training) -> None:
    _refused(tmp_path, "100,000,000 cells", XOR, sample="random:100000000", ranges={"training.lr": [0.1, 1.0]})


def test_past_an_hour_of_compute_needs_allow_large(tmp_path, no_training) -> None:
    grid = {"model.hidden": [[4000, 4000]], "training.epochs": [100000]}
    message = _refused(tmp_path, "of compute", XOR, grid, runs=50)
    assert "1 cell x 50 runs" in message
    with pytest.raises(ConfigError, match=r"needs about .* of memory"):  # allowed: then train's memory check
        bp.sweep(XOR, {"model.hidden": [[100000, 100000]]}, runs=10, allow_large=True)


def test_the_estimate_grows_with_cells_runs_and_epochs() -> None:
    one = estimate(make_spec(XOR, grid=[parse_grid("training.lr=[1.0]")], runs=10))
    assert (one.cells, one.runs) == (1, 10) and 0 < one.seconds < LIMIT_SECONDS
    four = estimate(make_spec(XOR, grid=[parse_grid("training.lr=[0.1, 0.2, 0.5, 1.0]")], runs=10))
    assert four.seconds == pytest.approx(4 * one.seconds)
    assert run_seconds(XOR.replace("training", epochs=200), 100) > run_seconds(XOR, 100)
    assert run_seconds(XOR, 1000) > run_seconds(XOR, 10)


@pytest.mark.parametrize(("base", "grid", "words"), [
    (XOR, {"model.output": ["sigmoid", "softmax"]}, "output softmax does not fit xor"),
    (MOONS, {"data.n_samples": [60, 3]}, "too small to split"),
    (XOR, {"data.name": ["xor", "iris"]}, 'must be "softmax" for iris'),
    (XOR, {"training.lr": [1, 1.0]}, "are the same config"),
])
def test_every_cell_passes_trains_checks_before_anything_is_written(tmp_path, no_training, base, grid,
                                                                     words) -> None:
    message = _refused(tmp_path, words, base, grid, runs=3)
    assert "cell" in message


def test_a_grid_over_data_sets_of_different_kinds_gives_one_table(tmp_path) -> None:
    table = bp.sweep(XOR.replace("training", epochs=3), {"data.name": ["xor", "moons"]}, runs=2, out=tmp_path / "s")
    assert [row["data.name"] for row in table] == ["xor", "moons"]
    assert "learned" in table[0] and "learned" not in table[1]
    report = (tmp_path / "s" / "report.md").read_text()
    assert "| moons" in report and "| xor" in report


def test_library_errors_name_parameters_and_the_cli_its_flags(tmp_path, capsys, no_training) -> None:
    for kwargs, python in [({"runs": 0}, "runs must be"), ({"seed_chunk": 0}, "seed_chunk must be"),
                           ({"threshold": -1}, "threshold must be"), ({"workers": 0}, "workers must be"),
                           ({"sample_seed": -1}, "sample_seed must be")]:
        with pytest.raises(ValueError, match=f"^{python}"):
            bp.sweep(XOR, {"training.lr": [1.0]}, **kwargs)
    with pytest.raises(ConfigError, match=r"^grid training.lr must be a number"):
        bp.sweep(XOR, {"training.lr": ["fast"]})
    assert main(["sweep", "xor", "--grid", "training.lr=[1.0]", "--runs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "error: --runs must be an integer >= 1, got 0" in capsys.readouterr().err


def test_seeds_is_the_old_name_of_runs(tmp_path, capsys) -> None:
    with pytest.warns(DeprecationWarning, match="runs"):
        table = bp.sweep(XOR.replace("training", epochs=2), {"training.lr": [1.0]}, seeds=3)
    assert table[0]["seeds"] == 3
    out = tmp_path / "s"
    assert main(["sweep", "xor", "--epochs", "2", "--grid", "training.lr=[1.0]", "--seeds", "3", "--out", str(out),
                 "-q"]) == 0
    assert "--seeds is now --runs" in capsys.readouterr().err
    assert main(["sweep", "xor", "--grid", "training.lr=[1.0]", "--seeds", "3", "--runs", "3"]) == 2


@pytest.mark.parametrize(("args", "words"), [
    (["--grid", "training.lr=[1]\nx = 2"], "one TOML array like [0.1, 1.0] and nothing after it"),
    (["--grid", "training.lr=[1]\n[t]"], "nothing after it"),
    (["--grid", "training.lr=[1]", "--out", ""], "--out is empty"),
    (["--grid", "training.lr=[1]", "--out", "  "], "--out is empty"),
])
def test_small_faults_are_refused(tmp_path, monkeypatch, capsys, no_training, args, words) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "xor", *args]) == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
