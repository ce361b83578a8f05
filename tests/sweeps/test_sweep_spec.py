"""User sweeps: cells in grid order, reproducible samples, stable keys, chunks that change no number."""

from __future__ import annotations

import itertools
import tomllib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.experiments.config import ConfigError, load_config
from backproplab.sweeps.engines import InProcess
from backproplab.sweeps.run import Task, chunks, merge, prepare, run_task
from backproplab.sweeps.spec import cell_key, make_spec, parse_grid, parse_range
from backproplab.sweeps.store import SweepStore

XOR = load_config("xor").replace("training", epochs=60)
# A split data set with mini-batches: the shuffling and the split are seeded, so chunks must share their seed.
MOONS = load_config("xor").replace("data", name="moons", n_samples=60).replace("training", epochs=5, batch_size=8)


def test_grid_cells_are_the_product_first_key_slowest() -> None:
    spec = make_spec(XOR, grid=[parse_grid("model.hidden=[[2], [4, 3]]"), parse_grid('model.activation=["tanh", '
                                                                                     '"relu", "sigmoid"]')], runs=3)
    cells = spec.cells()
    assert [(c["model.hidden"], c["model.activation"]) for c in cells] == [
        (h, a) for h in ((2,), (4, 3)) for a in ("tanh", "relu", "sigmoid")]
    config = spec.cell_config(cells[4])
    assert config.model.hidden == (4, 3) and config.model.activation == "relu" and config.training.runs == 3
    assert config.training.lr == XOR.training.lr  # everything else as in the base


def test_cell_keys_name_the_config_the_seeds_and_the_threshold() -> None:
    spec = make_spec(XOR, grid=[parse_grid("training.lr=[0.1, 1.0]")], runs=5)
    keys = [cell_key(spec.cell_config(c), 0.1) for c in spec.cells()]
    assert len(set(keys)) == 2 and all(len(k) == 16 for k in keys)
    again = make_spec(XOR, grid=[parse_grid("training.lr=[1.0, 0.1]")], runs=5)
    assert [cell_key(again.cell_config(c), 0.1) for c in again.cells()] == keys[::-1]  # by content, not position
    other_seeds = make_spec(XOR, grid=[parse_grid("training.lr=[0.1]")], runs=6)
    assert cell_key(other_seeds.cell_config(other_seeds.cells()[0]), 0.1) != keys[0]
    other_start = make_spec(XOR.replace("training", seed=1), grid=[parse_grid("training.lr=[0.1]")], runs=5)
    assert cell_key(other_start.cell_config(other_start.cells()[0]), 0.1) != keys[0]
    assert cell_key(spec.cell_config(spec.cells()[0]), 0.2) != keys[0]


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_samples_are_reproducible_and_inside_their_ranges(method: str) -> None:
    ranges = [parse_range('training.lr=[1e-3, 1.0, "log"]'), parse_range("training.epochs=[10, 50]")]
    draw = lambda seed: make_spec(XOR, sample=f"{method}:12", ranges=ranges, sample_seed=seed, runs=2).cells()  # noqa: E731
    cells = draw(7)
    assert cells == draw(7) and cells != draw(8) and len(cells) == 12
    lr = np.array([c["training.lr"] for c in cells])
    assert np.all((lr >= 1e-3) & (lr <= 1.0))
    assert all(isinstance(c["training.epochs"], int) and 10 <= c["training.epochs"] <= 50 for c in cells)
    if method == "lhs":  # a Latin hypercube puts one point in each of the 12 strata of log(lr)
        strata = np.floor((np.log(lr) - np.log(1e-3)) / (np.log(1.0) - np.log(1e-3)) * 12).astype(int)
        assert sorted(strata) == list(range(12))


def test_spec_round_trips_through_sweep_toml(tmp_path) -> None:
    spec = make_spec(XOR, grid=[parse_grid("model.hidden=[[2], [8]]")], runs=4)
    raw = tomllib.loads(spec.to_toml())
    assert raw["grid"] == {"model.hidden": [[2], [8]]} and raw["seeds"] == 4
    assert raw["config"]["training"]["epochs"] == 60
    store = SweepStore(tmp_path / "s")
    store.open(spec, [])
    assert store.same_spec(spec)
    assert not store.same_spec(make_spec(XOR, grid=[parse_grid("model.hidden=[[2], [8]]")], runs=5))


def test_a_value_the_config_refuses_is_named_with_its_grid() -> None:
    with pytest.raises(ConfigError, match=r"^grid data.val must be a number from 0 to 0.9, got 1.5"):
        prepare(MOONS, grid=[parse_grid("data.val=[0.1, 1.5]")])


@given(seeds=st.integers(1, 50), size=st.integers(1, 60))
def test_chunks_cover_the_seeds_once_none_alone(seeds: int, size: int) -> None:
    parts = chunks(seeds, size)
    assert parts[0][0] == 0 and sum(c for _, c in parts) == seeds
    assert all(o + c == o2 for (o, c), (o2, _) in itertools.pairwise(parts))  # contiguous, in order
    assert all(c >= 2 for _, c in parts) or parts == [(0, 1)]
    assert all(c <= max(size, 2) + 1 for _, c in parts)


@settings(max_examples=8, deadline=None)
@given(chunk=st.integers(1, 13))
def test_chunks_change_no_number(chunk: int) -> None:
    """Run r of a chunk starting at s is run s + r of one batch of all the seeds, whatever the chunking."""
    for base in (XOR, MOONS):
        config = base.replace("training", runs=13, seed=3)
        whole = run_task(Task(0, config, 3, 13, 0.5))
        parts = merge([run_task(Task(0, config, 3 + offset, count, 0.5)) for offset, count in chunks(13, chunk)])
        assert whole.keys() == parts.keys()
        for name in whole:
            if name != "seconds":
                np.testing.assert_array_equal(parts[name], whole[name], err_msg=name)


def test_python_sweep_returns_the_table_and_writes_nothing_without_out(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    table = bp.sweep(MOONS, {"model.hidden": [[2], [6]]}, runs=4, seed_chunk=3)
    assert list(tmp_path.iterdir()) == []
    assert len(table) == 2 and [row["model.hidden"] for row in table] == [(2,), (6,)]
    assert table.columns[:3] == ["model.hidden", "seeds", "final_loss_median"]
    assert {"val_accuracy_median", "val_accuracy_p5", "val_accuracy_p95", "accuracy_median"} <= set(table.columns)
    assert "learned" not in table.columns  # a share learned is for logic functions
    assert table.metric == "val_accuracy_median"
    for row in table:
        assert row["final_loss_p5"] <= row["final_loss_median"] <= row["final_loss_p95"]
        assert 0 <= row["val_accuracy_p5"] <= row["val_accuracy_median"] <= row["val_accuracy_p95"] <= 1


def test_progress_bar_counts_cells_and_status_says_what_is_reused(tmp_path, capsys) -> None:
    lines: list[str] = []
    bp.sweep(XOR, {"training.lr": [0.5, 1.0]}, runs=3, out=tmp_path / "s", progress=True, status=lines.append)
    err = capsys.readouterr().err
    assert "sweep:" in err and "0/2 [" in err and "cell/s" in err  # the bar, over cells
    table = bp.sweep(XOR, {"training.lr": [0.5, 1.0, 2.0]}, runs=3, out=tmp_path / "s", overwrite=True,
                     status=lines.append)
    assert lines[-1].endswith(f"1 to compute, 2 already in {tmp_path / 's' / 'cells'}")
    assert len(table.computed) == 1 and table.computed[0] == table.cell_keys[2]
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="needs pandas"):
            table.to_pandas()
    else:
        assert list(table.to_pandas().columns) == table.columns


def test_costly_tasks_start_first_and_the_table_stays_in_grid_order() -> None:
    """A wide or long cell started last would leave the other workers idle while it finishes."""
    started: list[tuple[int, int]] = []

    class Recording(InProcess):
        def map(self, fn, tasks):
            started.extend((t.config.model.hidden[0], t.config.training.epochs) for t in tasks)
            return super().map(fn, tasks)

    plan = prepare(XOR, {"model.hidden": [[2], [16], [4]], "training.epochs": [20, 40]}, runs=4)
    plan.engine = Recording()
    table = plan.run()
    assert started[0] == (16, 40) and started[-1] == (2, 20)
    for epochs in (20, 40):  # wider first at equal length, longer first at equal width
        assert [w for w, e in started if e == epochs] == [16, 4, 2]
    for width in (2, 4, 16):
        assert [e for w, e in started if w == width] == [40, 20]
    assert [(row["model.hidden"], row["training.epochs"]) for row in table] == [
        ((2,), 20), ((2,), 40), ((16,), 20), ((16,), 40), ((4,), 20), ((4,), 40)]
