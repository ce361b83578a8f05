"""``backproplab train`` on split data sets: flags and TOML for data, optimizers, schedules, dropout, batch norm;
accuracy tables, confusion matrix and learning curves written and consistent with the saved model."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.data import load
from backproplab.experiments.config import ConfigError, load_config


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_flags_train_a_multi_class_run_and_write_its_figures(tmp_path, capsys):
    out = tmp_path / "blobs"
    code = main(["train", "--data", "blobs", "--n-samples", "150", "--hidden", "8", "--activation", "relu",
                 "--output", "softmax", "--optimizer", "nesterov", "--lr", "0.05", "--epochs", "15",
                 "--batch-size", "16", "--dropout", "0.1", "--batch-norm", "--schedule", "cosine", "--patience", "50",
                 "--runs", "2", "--seed", "3", "--out", str(out), "--quiet", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["accuracy"]) == {"train", "val", "test"}
    assert (out / "figures" / "confusion_matrix.png").stat().st_size > 1000
    assert (out / "figures" / "learning_curves.png").stat().st_size > 1000
    config = load_config(out / "config.toml")
    assert config.model.batch_norm and config.model.dropout == 0.1 and config.training.schedule == "cosine"
    # The tables agree with the saved model on the same split (same seed, same data).
    net = bp.load(out / "model.npz")
    ds = load("blobs", n_samples=150, seed=3)
    test_acc = (net.predict(ds.X_test) == ds.y_test).mean(axis=-1)  # (R,)
    accuracy = {row[0]: row for row in _rows(out / "tables" / "accuracy.csv")[1:]}
    assert float(accuracy["test"][2]) == pytest.approx(test_acc.mean())
    np.testing.assert_allclose(result["accuracy"]["test"], test_acc)
    cm = np.array([[int(v) for v in row[1:]] for row in _rows(out / "tables" / "confusion_matrix.csv")[1:]])
    assert cm.sum() == 2 * len(ds.y_test)  # two runs pooled
    assert np.trace(cm) == round(test_acc.sum() * len(ds.y_test))
    history = _rows(out / "history.csv")
    assert any("val_loss" in column for column in history[0])


def test_toml_config_with_adamw_and_step_schedule(tmp_path, capsys):
    toml = tmp_path / "iris.toml"
    toml.write_text('name = "iris-run"\n[data]\nname = "iris"\n[model]\nhidden = [8]\nactivation = "tanh"\n'
                    'output = "softmax"\n[training]\noptimizer = "adamw"\nlr = 0.02\nweight_decay = 0.01\n'
                    'schedule = "step"\nlr_step = 10\nlr_gamma = 0.5\nepochs = 40\nbatch_size = 16\n')
    out = tmp_path / "run"
    assert main(["train", str(toml), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "test" in text
    per_class = _rows(out / "tables" / "per_class.csv")
    assert [row[0] for row in per_class[1:]] == ["0", "1", "2"]


def test_logic_tables_keep_the_reports_outputs(tmp_path, capsys):
    out = tmp_path / "xor"
    assert main(["train", "xor", "--epochs", "50", "--out", str(out), "--quiet"]) == 0
    assert (out / "tables" / "predictions.csv").exists() and not (out / "figures").exists()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--data", "iris", "--output", "sigmoid"], "softmax"),
        (["--data", "cifar"], "--data"),
        (["--data", "moons", "--schedule", "linear"], "--schedule"),
        (["--data", "moons", "--dropout", "1.5"], "--dropout"),
        (["--optimizer", "adam", "--momentum", "0.5", "--data", "moons"], "momentum"),
    ],
)
def test_bad_settings_exit_2_naming_them(tmp_path, capsys, argv, match):
    code = main(["train", *argv, "--epochs", "2", "--out", str(tmp_path / "bad"), "--quiet"])
    assert code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_shipped_mnist1d_preset_is_valid():
    config = load_config("mnist1d")
    assert config.data.name == "mnist1d" and config.model.output == "softmax" and config.model.dropout > 0
    with pytest.raises(ConfigError, match="softmax"):
        config.replace("model", output="sigmoid")


def test_multi_class_data_gets_a_softmax_output_unless_one_is_named(tmp_path, capsys):
    from backproplab.cli import main

    assert main(["train", "--data", "iris", "--epochs", "2", "--out", str(tmp_path / "iris"), "--quiet"]) == 0
    assert 'output = "softmax"' in (tmp_path / "iris" / "config.toml").read_text()
    capsys.readouterr()
    assert main(["train", "--data", "iris", "--output", "sigmoid", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert 'must be "softmax" for iris' in capsys.readouterr().err


def test_a_missing_optional_package_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    import sys

    from backproplab.cli import main

    for module in ("sklearn", "sklearn.datasets"):  # None in sys.modules makes an import fail
        monkeypatch.setitem(sys.modules, module, None)
    assert main(["train", "--data", "digits", "--out", str(tmp_path / "d"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'backproplab[sklearn]'" in err and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_data_that_cannot_be_had_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from backproplab.cli import main

    # A mirror without the files and an empty cache: the download fails without touching the network.
    monkeypatch.setenv("BACKPROPLAB_MNIST_MIRROR", (tmp_path / "empty-mirror").as_uri())
    monkeypatch.setenv("BACKPROPLAB_CACHE", str(tmp_path / "cache"))
    code = main(["train", "--data", "mnist", "--out", str(tmp_path / "m"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "could not download" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()
