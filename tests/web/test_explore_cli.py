"""``backproplab explore`` and ``backproplab playground`` from the command line."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.cli import main
from backproplab.experiments.config import load_config
from backproplab.web.runs import record_config


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "xor"
    assert main(["train", "xor", "--epochs", "300", "--seed", "3", "--out", str(out), "--quiet"]) == 0
    return out


def test_explore_a_train_run_dir(run_dir, capsys):
    assert main(["explore", str(run_dir), "--quiet"]) == 0
    page = run_dir / "explorer.html"
    assert capsys.readouterr().out.strip() == str(page)
    data = json.loads(re.search(r'id="bp-data">(.*?)</script>', page.read_text(encoding="utf-8"), re.S).group(1))
    assert data["epochs"][-1] == 300 and data["meta"]["sizes"] == [2, 8, 1]
    assert "seed 3" in data["meta"]["title"]


def test_the_explorer_shows_the_run_in_the_directory(run_dir):
    """Re-training from config.toml gives model.npz bit for bit."""
    recording, trained = record_config(load_config(run_dir / "config.toml"))
    saved = bp.load(run_dir / "model.npz")
    for name, p in saved.params.items():
        assert np.array_equal(p, trained.net.params[name])
        assert np.array_equal(recording.arrays[f"p:{name}"][-1], p)


def test_explore_a_many_runs_dir(tmp_path):
    out = tmp_path / "many"
    assert main(["train", "xor", "--epochs", "100", "--runs", "5", "--seed", "2", "--out", str(out), "--quiet"]) == 0
    assert main(["explore", str(out), "--quiet"]) == 0
    page = (out / "explorer.html").read_text(encoding="utf-8")
    assert "seed 2 (run 0 of 5)" in page


def test_explore_refuses_a_run_dir_whose_model_differs(tmp_path, run_dir):
    other = tmp_path / "xor"
    assert main(["train", "xor", "--epochs", "300", "--seed", "3", "--out", str(other), "--quiet"]) == 0
    bp.mlp([2, 8, 1], seed=99).save(other / "model.npz")
    assert main(["explore", str(other), "--quiet"]) == 1
    assert not (other / "explorer.html").exists()


def test_explore_a_directory_of_runs(tmp_path):
    for name in ("and", "or"):
        assert main(["train", name, "--epochs", "50", "--out", str(tmp_path / name), "--quiet"]) == 0
    assert main(["explore", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "and" / "explorer.html").is_file() and (tmp_path / "or" / "explorer.html").is_file()
    assert main(["explore", str(tmp_path), "--out", str(tmp_path / "x.html"), "--quiet"]) == 2


def test_explore_a_recording_file(tmp_path):
    X, y = data.logic_table("or")
    from backproplab.train.recording import Recorder

    rec = Recorder(X, y)
    bp.fit(bp.mlp([2, 2, 1]), X, y, epochs=10, progress=False, callbacks=[rec])
    path = rec.recording.save(tmp_path / "rec.npz")
    assert main(["explore", str(path), "--quiet"]) == 0
    assert (tmp_path / "rec.html").is_file()


@pytest.mark.parametrize("args", [["explore", "/no/such/dir"], ["explore"]])
def test_explore_bad_paths_are_usage_errors(args, tmp_path, capsys):
    assert main(args) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["explore", str(empty)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_playground_refuses_bad_ports_and_busy_addresses(capsys):
    assert main(["playground", "--port", "70000", "--no-browser"]) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 1
    assert "try another --port" in capsys.readouterr().err


def test_reproduce_writes_an_explorer_per_run_and_explore_rewrites_it_identically(tmp_path):
    out = tmp_path / "report"
    assert main(["reproduce", "--seeds", "0", "--sweep-seeds", "0", "--out", str(out), "--quiet"]) == 0
    pages = {name: (out / name / "explorer.html").read_text(encoding="utf-8") for name in ("and", "or", "xor")}
    assert "XOR — 2-8-1 sigmoid, SGD lr 0.1, 2000 epochs, seed 0" in pages["xor"]
    for name in pages:
        (out / name / "explorer.html").unlink()
    assert main(["explore", str(out), "--quiet"]) == 0
    for name, page in pages.items():
        assert (out / name / "explorer.html").read_text(encoding="utf-8") == page, name
    bare = tmp_path / "bare"
    assert main(["reproduce", "--seeds", "0", "--sweep-seeds", "0", "--no-explorer", "--out", str(bare), "-q"]) == 0
    assert (bare / "xor" / "model.npz").is_file() and not (bare / "xor" / "explorer.html").exists()


def _title(page: Path) -> str:
    return re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8")).group(1)


def test_the_explorer_title_is_the_network_that_was_trained(tmp_path):
    """A digits run was titled "digits — 2-32-1 sigmoid": the sizes came from the logic tables' shape."""
    pytest.importorskip("sklearn", reason="digits comes from scikit-learn")
    out = tmp_path / "digits"
    assert main(["train", "--data", "digits", "--hidden", "32", "--output", "softmax", "--epochs", "2",
                 "--out", str(out), "-q"]) == 0
    assert main(["explore", str(out), "-q"]) == 0
    assert _title(out / "explorer.html").startswith("digits — 64-32-10 sigmoid, softmax output, SGD lr 0.1, 2 epochs")


def test_the_explorer_title_says_when_early_stopping_ended_the_run(tmp_path):
    out = tmp_path / "es"
    assert main(["train", "--data", "moons", "--patience", "2", "--epochs", "500", "--lr", "1", "--out", str(out),
                 "-q"]) == 0
    done = len((out / "history.csv").read_text().splitlines()) - 1
    assert done < 500
    assert main(["explore", str(out), "-q"]) == 0
    title = _title(out / "explorer.html")
    assert f"{done} of 500 epochs (early stopping)" in title and "2-8-1" in title
