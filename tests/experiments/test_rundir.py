"""Run directories: complete or absent, never half-written; never over someone else's files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import backproplab as bp
from backproplab.experiments.config import load_config, parse_toml
from backproplab.experiments.rundir import MARKER, RunDir, RunDirError, check_target


def _trained(runs=None):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    net = bp.mlp([2, 3, 1], seed=4, runs=runs)
    history = bp.fit(net, X, y, epochs=7, batch_size=4, progress=False)
    return net, history, X


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_writes_every_file_and_lists_them(tmp_path) -> None:
    net, history, X = _trained()
    config = load_config("xor")
    out = tmp_path / "run"
    with RunDir(out, command="test") as run:
        run.write_config(config)
        run.write_history(history)
        run.save_model(net)
        run.write_csv("tables/t.csv", ["a", "b"], [[1, 0.1], [2, 1 / 3]])
        assert not out.exists()  # nothing is visible before the block ends
    assert parse_toml((out / "config.toml").read_text()) == config
    np.testing.assert_array_equal(bp.load(out / "model.npz").predict_proba(X), net.predict_proba(X))
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 8))
    np.testing.assert_array_equal([float(r["loss"]) for r in rows], history.loss)  # full precision
    np.testing.assert_array_equal([float(r["accuracy"]) for r in rows], history.accuracy)
    assert float(list(csv.reader((out / "tables/t.csv").open()))[2][1]) == 1 / 3
    record = json.loads((out / MARKER).read_text())
    assert record["command"] == "test"
    assert record["files"] == sorted(["config.toml", "history.csv", "model.npz", "tables/t.csv"])
    assert _leftovers(tmp_path) == []


def test_history_with_runs_has_a_column_per_run(tmp_path) -> None:
    _, history, _ = _trained(runs=3)
    with RunDir(tmp_path / "run") as run:
        run.write_history(history)
    header = next(csv.reader((tmp_path / "run" / "history.csv").open()))
    assert header == ["epoch", "loss_r0", "loss_r1", "loss_r2", "accuracy_r0", "accuracy_r1", "accuracy_r2"]
    rows = np.loadtxt(tmp_path / "run" / "history.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(rows[:, 1:4], history.loss)


def test_failure_leaves_nothing(tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyError), RunDir(out) as run:
        run.write_text("a.txt", "first file")
        raise KeyError("late failure")
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_failure_keeps_the_previous_run(tmp_path) -> None:
    out = tmp_path / "run"
    with RunDir(out) as run:
        run.write_text("a.txt", "old")
    with pytest.raises(RuntimeError), RunDir(out) as run:
        run.write_text("a.txt", "new")
        run.write_text("b.txt", "new")
        raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "old"
    assert not (out / "b.txt").exists()
    assert _leftovers(tmp_path) == []


def test_a_new_run_replaces_the_previous_one(tmp_path) -> None:
    out = tmp_path / "run"
    with RunDir(out) as run:
        run.write_text("old.txt", "old")
    with RunDir(out) as run:
        run.write_text("new.txt", "new")
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "new.txt"])
    assert _leftovers(tmp_path) == []


def test_empty_directory_is_used(tmp_path) -> None:
    (tmp_path / "run").mkdir()
    with RunDir(tmp_path / "run") as run:
        run.write_text("x.txt", "x")
    assert (tmp_path / "run" / "x.txt").read_text() == "x"


def test_foreign_directory_is_refused_before_any_work(tmp_path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(RunDirError, match="not written by backproplab"):
        RunDir(home)
    with pytest.raises(RunDirError, match="not a directory"):
        check_target(home / "thesis.tex")
    assert (home / "thesis.tex").read_text() == "precious"


def test_foreign_files_appearing_during_the_run_are_not_replaced(tmp_path) -> None:
    out = tmp_path / "run"
    with pytest.raises(RunDirError), RunDir(out) as run:
        run.write_text("a.txt", "a")
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")
    assert (out / "theirs.txt").read_text() == "theirs"
    assert _leftovers(tmp_path) == []


def test_paths_must_stay_inside(tmp_path) -> None:
    with pytest.raises(ValueError, match="inside the run directory"), RunDir(tmp_path / "run") as run:
        run.write_text("../escape.txt", "x")
    assert not (tmp_path / "escape.txt").exists()


def test_files_only_inside_the_block(tmp_path) -> None:
    run = RunDir(tmp_path / "run")
    with pytest.raises(RuntimeError, match="inside its `with` block"):
        run.write_text("a.txt", "a")


def test_figures_are_png(tmp_path) -> None:
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [1, 0])
    with RunDir(tmp_path / "run") as run:
        path = run.save_figure(fig, "figures/f.png", dpi=50)
    assert path == tmp_path / "run" / "figures" / "f.png"
    image = imread(path)  # raises if the file is not a PNG
    assert image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 10


def test_run_directory_gets_ordinary_permissions(tmp_path):
    import os
    import stat

    from backproplab.experiments.rundir import RunDir

    mask = os.umask(0o022)
    try:
        with RunDir(tmp_path / "run", command="test") as run:
            (run.file("a.txt")).write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o755
