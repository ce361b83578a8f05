"""``backproplab train``: a run directory whose files agree with what was printed; bad input -> exit 2, no files."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.errors import DivergenceError
from backproplab.experiments.config import load_config, parse_toml

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_train_a_shipped_config_with_overrides(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "xor", "--epochs", "300", "--seed", "4", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "training XOR" in captured.err and "Table" not in captured.err  # progress on stderr only
    config = parse_toml((out / "config.toml").read_text())
    shipped = load_config("xor")
    # The description told of 2000 epochs: it now says what the flags changed (issue 11).
    changed = "; changed from the command line: the values below are this run's"
    assert config.description == shipped.description + changed
    assert config == dataclasses.replace(shipped.replace("training", epochs=300, seed=4),
                                         description=config.description)
    net = bp.load(out / "model.npz")
    p = net.predict_proba(X)[:, 0]
    assert [row[2] for row in _rows(captured.out)] == [f"{v:.4f}" for v in p]
    saved = list(csv.DictReader((out / "tables" / "predictions.csv").open()))
    np.testing.assert_array_equal([float(r["predicted"]) for r in saved], p)
    history = list(csv.DictReader((out / "history.csv").open()))
    assert len(history) == 300 and set(history[0]) == {"epoch", "loss", "accuracy"}
    # The same training by hand gives the same network.
    ref = bp.mlp([2, 8, 1], seed=4)
    bp.fit(ref, X, [0, 1, 1, 0], epochs=300, batch_size=4, progress=False)
    np.testing.assert_array_equal(ref.predict_proba(X)[:, 0], p)


def test_train_from_flags_with_runs_and_json(tmp_path, capsys) -> None:
    out = tmp_path / "runs"
    args = ["train", "--data", "or", "--hidden", "3,2", "--activation", "tanh", "--lr", "0.5", "--epochs", "50",
            "--runs", "5", "--out", str(out), "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --json implies no progress
    result = json.loads(captured.out)
    assert result["config"]["model"]["hidden"] == [3, 2] and result["config"]["training"]["runs"] == 5
    assert result["config"]["name"] == "or" and result["epochs"] == 50
    nets = bp.load(out / "model.npz")
    assert nets.runs == 5
    p = nets.predict_proba(X)[..., 0]  # (5, 4)
    np.testing.assert_array_equal(result["predictions"], p)
    y = np.array([0, 1, 1, 1])
    ok = np.all((p > 0.5) == (y > 0.5), axis=1)
    assert result["learned"] == {"share": np.mean(ok), "count": int(ok.sum()), "runs": 5}
    assert len(result["final_loss"]) == 5
    header = next(csv.reader((out / "history.csv").open()))
    assert header[:6] == ["epoch", "loss_r0", "loss_r1", "loss_r2", "loss_r3", "loss_r4"]


def test_default_out_dir_is_named_after_the_config(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "and", "--epochs", "5", "-q"]) == 0
    assert (tmp_path / "runs" / "and" / "model.npz").is_file()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("args", "words"), [
    (["--lr", "-1"], ["--lr", "> 0"]),
    (["--epochs", "0"], ["--epochs", "integer from 1"]),
    (["--hidden", "0"], ["--hidden[0]", "from 1"]),
    (["--hidden", "8,x"], ["--hidden", "comma-separated"]),
    (["--data", "xr"], ["--data", "one of", "xor"]),
    (["--activation", "swish"], ["--activation", "one of", "tanh"]),
    (["--runs", "0"], ["--runs"]),
    (["--batch-size", "two"], ["--batch-size", "invalid int"]),
    (["no-such-config"], ["no config file", "shipped"]),
])
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, args, words) -> None:
    out = tmp_path / "run"
    assert main(["train", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("backproplab train: error:")
    for word in words:
        assert word in last
    assert not out.exists()


def test_bad_config_file_names_the_key(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[training]\nlearning_rate = 0.1\n")
    assert main(["train", str(bad), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: unknown key [training] learning_rate" in err
    assert not (tmp_path / "run").exists()


def test_foreign_out_dir_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "mine.txt").write_text("mine")
    assert main(["train", "and", "--out", str(tmp_path)]) == 2
    assert "not written by backproplab" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "mine"


def test_divergence_exits_1_and_leaves_no_files(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "run"
    assert main(["train", "and", "--epochs", "3", "--out", str(out), "-q"]) == 0
    before = sorted(p.name for p in out.iterdir())

    def diverge(*args, **kwargs):
        raise DivergenceError("training diverged: the loss became NaN in epoch 2.", epoch=2, runs=(0,))

    monkeypatch.setattr("backproplab.experiments.build.fit", diverge)
    assert main(["train", "and", "--epochs", "3", "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "diverged" in err and "Nothing was written" in err
    assert sorted(p.name for p in out.iterdir()) == before  # the earlier run is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary leftovers
