"""``backproplab sweep`` refuses bad input: one line on stderr, exit 2, nothing trained, nothing left behind."""

from __future__ import annotations

import csv
import json
import socket
import sys

import pytest

from backproplab.cli import main
from backproplab.sweeps import run as sweep_run

GRID = ["--grid", "training.lr=[0.1, 1.0]"]

# (arguments after "sweep", words the error line must hold); {tmp} is a fresh directory.
BAD = [
    (["xor", "--grid", "training.epoch=[10]"], ["unknown key", "did you mean training.epochs"]),
    (["xor", "--grid", "training.learning_rate=[0.1]"], ["unknown key", "[training] has optimizer, lr,"]),
    (["xor", "--grid", "optim.lr=[0.1]"], ["optim.lr", "section one of data, model, training"]),
    (["xor", "--grid", "lr=[0.1]"], ["section.key"]),
    (["xor", "--grid", "training.lr=[]"], ["training.lr", "no values"]),
    (["xor", "--grid", "training.lr=0.1"], ["training.lr", "TOML array"]),
    (["xor", "--grid", "training.lr=[0.1,"], ["training.lr", "TOML array"]),
    (["xor", "--grid", "training.lr"], ["KEY=VALUES"]),
    (["xor", "--grid", 'training.lr=["fast"]'], ["--grid training.lr", "must be a number > 0", "'fast'"]),
    (["xor", "--grid", "training.epochs=[10, 2.5]"], ["--grid training.epochs", "integer", "2.5"]),
    (["xor", "--grid", "model.hidden=[2, 4]"], ["--grid model.hidden", "list of integers"]),
    (["xor", "--grid", "training.lr=[0.1, -1]"], ["--grid training.lr", "> 0", "-1"]),
    (["xor", "--grid", 'model.activation=["sigmoid", "sigmoyd"]'], ["--grid model.activation", "sigmoyd"]),
    (["xor", "--grid", 'training.optimizer=["adam"]', "--momentum", "0.5"], ["momentum", "adam"]),
    (["xor", "--grid", "training.lr=[0.1, 0.1]"], ["training.lr", "given twice"]),
    (["xor", *GRID, "--grid", "training.lr=[0.3]"], ["training.lr", "swept twice"]),
    (["xor", "--grid", "training.seed=[1, 2]"], ["training.seed", "training.seed"]),
    (["xor", "--grid", "training.runs=[10]"], ["training.runs", "--runs"]),
    (["xor"], ["nothing to sweep", "--grid"]),
    (["no_such_config.toml", *GRID], ["no config file", "no_such_config.toml"]),
    (["xor", *GRID, "--runs", "0"], ["--runs", ">= 1"]),
    (["xor", *GRID, "--seed-chunk", "0"], ["--seed-chunk", ">= 1"]),
    (["xor", *GRID, "--threshold", "0"], ["--threshold", "> 0"]),
    (["xor", *GRID, "--epochs", "0"], ["--epochs", "from 1"]),
    (["xor", "--sample", "lhs:10"], ["--sample needs", "--range"]),
    (["xor", "--range", "training.lr=[0.01, 1]"], ["--range needs", "--sample"]),
    (["xor", "--sample", "grid:10", "--range", "training.lr=[0.01, 1]"], ["random:N or lhs:N"]),
    (["xor", "--sample", "random:0", "--range", "training.lr=[0.01, 1]"], ["random:N or lhs:N"]),
    (["xor", "--sample", "lhs:4", "--range", "training.lr=[1, 0.01]"], ["low must be below high"]),
    (["xor", "--sample", "lhs:4", "--range", 'training.lr=[0, 1, "log"]'], ["log range needs low > 0"]),
    (["xor", "--sample", "lhs:4", "--range", 'training.lr=[0.1, 1, "ln"]'], ["[low, high]"]),
    (["xor", "--sample", "lhs:4", "--range", "model.activation=[0, 1]"], ["only numeric keys"]),
    (["xor", "--sample", "lhs:4", "--range", "training.lr=[0.01, 1]", "--grid", 'model.activation=["tanh"]'],
     ["cannot be combined"]),
    (["xor", *GRID, "--workers", "0"], ["--workers", ">= 1"]),
    (["xor", *GRID, "--scheduler", "tcp://127.0.0.1:1", "--timeout", "0"], ["--timeout", "> 0"]),
]


def _check(capsys, args, words, out) -> None:
    assert main(["sweep", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    line = err.strip()
    assert "\n" not in line and line.startswith("backproplab sweep: error: "), err
    for word in words:
        assert word in line, (word, line)


@pytest.fixture(autouse=True)
def no_training(monkeypatch):
    """Any training at all fails the test: bad input is refused before any work."""
    def refuse(*args, **kwargs):
        raise AssertionError("a refused sweep trained something")

    monkeypatch.setattr(sweep_run, "train", refuse)


@pytest.mark.parametrize(("args", "words"), BAD, ids=[" ".join(a[1:3]) or a[0] for a, _ in BAD])
def test_bad_input(args, words, tmp_path, capsys) -> None:
    out = tmp_path / "sweep"
    _check(capsys, args, words, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing left behind


def test_unusable_out(tmp_path, capsys) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    _check(capsys, ["xor", *GRID], ["afile", "not a directory"], afile)
    _check(capsys, ["xor", *GRID], ["afile", "not a directory"], afile / "sub")
    _check(capsys, ["xor", *GRID], ["cannot write"], "/proc/backproplab-sweep")  # read-only, even for root
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    _check(capsys, ["xor", *GRID], ["not a sweep directory"], other)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile", "notes.txt", "other"]


def test_a_different_spec_in_an_existing_dir_is_refused_unless_overwrite(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.undo()  # this one trains
    out = tmp_path / "sweep"
    quick = ["xor", "--epochs", "5", "--runs", "3", "-q"]
    assert main(["sweep", *quick, *GRID, "--out", str(out)]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _check(capsys, [*quick, "--grid", "training.lr=[0.5]"], ["different sweep", "--overwrite"], out)
    _check(capsys, [*quick[:4], "7", "-q", *GRID], ["different sweep"], out)  # other seeds, same grid
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["sweep", *quick, "--grid", "training.lr=[0.5]", "--out", str(out), "--overwrite"]) == 0
    assert len(list((out / "cells").glob("*.npz"))) == 1  # the other sweep's two cells are gone
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [row["training.lr"] for row in rows] == ["0.5"]
    # A grid grown by a value: --overwrite keeps the cell the two sweeps share and computes the new one.
    capsys.readouterr()
    kept = {p.stem for p in (out / "cells").glob("*.npz")}
    assert main(["sweep", *quick[:-1], "--json", "--grid", "training.lr=[0.5, 2.0]", "--out", str(out),
                 "--overwrite"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["computed"]) == 1 and result["cell_keys"] == [*kept, *result["computed"]]


def test_missing_dask_extra(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    _check(capsys, ["xor", *GRID, "--workers", "2"], ["need Dask", "pip install 'backproplab[sweep]'"],
           tmp_path / "sweep")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_scheduler(tmp_path, capsys) -> None:
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _check(capsys, ["xor", *GRID, "--scheduler", f"tcp://127.0.0.1:{port}", "--timeout", "1"],
           ["cannot reach the Dask scheduler", str(port)], tmp_path / "sweep")
    assert list(tmp_path.iterdir()) == []
