"""``backproplab landscape``: figures in the run directory, a table on stdout; bad input refused before any work."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.cli.landscape import FIGURES, RECORDING_NAME
from backproplab.data import logic_table
from backproplab.landscape import hessian, spectrum
from backproplab.train.recording import Recorder, Recording


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "xor"
    assert main(["train", "xor", "--epochs", "300", "--out", str(out), "-q"]) == 0
    return out


def test_a_run_directory_gets_its_recording_and_three_figures(run_dir, capsys):
    assert main(["landscape", str(run_dir), "--steps", "11", "--epochs", "3", "-q"]) == 0
    out = capsys.readouterr().out
    assert "smallest eigenvalue" in out and "| 300 " in out
    for name in FIGURES:
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    recording = Recording.load(run_dir / RECORDING_NAME)
    assert recording.epochs[-1] == 300
    saved = bp.load(run_dir / "model.npz")
    np.testing.assert_array_equal(recording.arrays["p:0.W"][-1], saved.params["0.W"])  # the run itself
    # A second call reads the kept recording (same numbers, no re-training) and answers in JSON.
    assert main(["landscape", str(run_dir), "--steps", "11", "--epochs", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["epoch"] for r in data["epochs"]] == [0, 150, 300]
    assert sum(data["explained"]) <= 1.0 + 1e-12


def test_the_table_holds_the_hessian_of_the_recorded_weights(tmp_path, capsys):
    X, y = logic_table("xor")
    recorder = Recorder(X, y, max_frames=4)
    net = bp.mlp([2, 2, 1], seed=3)
    bp.fit(net, X, y, epochs=40, callbacks=[recorder], progress=False)
    recorder.recording.save(tmp_path / "rec.npz")
    assert main(["landscape", str(tmp_path / "rec.npz"), "--steps", "5", "--epochs", "2", "--json"]) == 0
    last = json.loads(capsys.readouterr().out)["epochs"][-1]
    s = spectrum(hessian(net, X, y))
    assert last["epoch"] == 40
    assert last["min_eigenvalue"] == pytest.approx(s.min, abs=1e-9)
    assert last["max_eigenvalue"] == pytest.approx(s.max, abs=1e-9)
    _, grads = bp.loss_and_gradients(net, X, y)
    assert last["grad_norm"] == pytest.approx(np.sqrt(sum((g**2).sum() for g in grads.values())), rel=1e-9)
    assert all((tmp_path / f"rec_{name}").is_file() for name in FIGURES)  # beside the recording


@pytest.mark.parametrize(("argv", "words"), [
    (["--steps", "2"], "--steps must be between 3 and 1001, got 2"),
    (["--epochs", "0"], "--epochs must be between 1 and 100, got 0"),
    (["--max-memory", "-1"], "--max-memory must be a positive number of GB, got -1"),
    (["--max-memory", "1e-6"], "plane of 33 parameters needs"),
    (["--max-memory", "4e-5", "--steps", "3"], "6 Hessians of a network with 33 parameters"),
])
def test_bad_flags_are_refused_before_any_work(run_dir, argv, words, capsys):
    before = sorted(p.name for p in run_dir.iterdir())
    stamp = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    assert main(["landscape", str(run_dir), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backproplab landscape: error: ") and words in err and err.count("\n") == 1
    assert sorted(p.name for p in run_dir.iterdir()) == before
    assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == stamp


def test_a_directory_without_a_recording_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["landscape", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "holds no recording (recording.npz) and no config.toml" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main(["landscape", str(tmp_path / "missing")]) == 2
    assert "no run directory or recording at" in capsys.readouterr().err


def test_a_file_that_is_no_recording_and_batch_norm_are_refused(tmp_path, capsys):
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    assert main(["landscape", str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err.startswith("backproplab landscape: error: ")
    out = tmp_path / "bn"
    assert main(["train", "xor", "--batch-norm", "--epochs", "5", "--out", str(out), "-q"]) == 0
    assert main(["landscape", str(out)]) == 2
    assert "batch norm" in capsys.readouterr().err
    assert not (out / RECORDING_NAME).exists()
