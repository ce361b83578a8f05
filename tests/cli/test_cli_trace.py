"""``backproplab trace``: the worked pass as text, JSON and Markdown, for the shipped XOR config."""

from __future__ import annotations

import json

import numpy as np

import backproplab as bp
from backproplab.cli import main
from backproplab.experiments.build import build_network
from backproplab.experiments.config import load_config


def _json(capsys, *argv):
    assert main(["trace", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_text_prints_each_formula_beside_its_number(capsys):
    assert main(["trace", "xor", "--input", "1,0"]) == 0
    out = capsys.readouterr().out
    for formula in ("z = a_prev @ W + b", "sigmoid(z) = 1 / (1 + exp(-z))", "delta = dL/dz = p - y",
                    "dL/da = delta_next @ W_next^T", "sigmoid' = a * (1 - a)", "delta = dL/da * f'(z)",
                    "dL/dW = a_prev^T delta", "dL/db = delta", "update: W - lr * dL/dW"):
        assert formula in out
    assert out.index("forward") < out.index("backward") < out.index("update")


def test_json_is_the_report_network_at_its_initial_weights(capsys):
    doc = _json(capsys, "xor", "--input", "1,0", "--json")
    net = build_network(load_config("xor"), 2)
    loss, grads = bp.loss_and_gradients(net, np.array([[1.0, 0.0]]), [1])
    assert doc["input"] == [1.0, 0.0] and doc["target"] == [1.0] and doc["row"] == 2
    assert abs(doc["loss"] - loss) < 1e-12
    assert [layer["name"] for layer in doc["layers"]] == ["0", "2"]
    for layer in doc["layers"]:
        np.testing.assert_allclose(layer["W"], net.params[f"{layer['name']}.W"], rtol=0, atol=0)
        np.testing.assert_allclose(layer["grad_W"], grads[f"{layer['name']}.W"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.array(layer["W_new"]), np.array(layer["W"]) - 0.1 * np.array(layer["grad_W"]),
                                   rtol=0, atol=1e-15)


def test_trained_and_saved_models(tmp_path, capsys):
    trained = _json(capsys, "xor", "--trained", "--epochs", "50", "--json")
    fresh = _json(capsys, "xor", "--epochs", "50", "--json")
    assert trained["layers"][0]["W"] != fresh["layers"][0]["W"]
    path = bp.mlp([2, 3, 1], activation="tanh", seed=9).save(tmp_path / "model.npz")
    saved = _json(capsys, "xor", "--model", str(path), "--row", "3", "--json")
    assert saved["input"] == [1.0, 1.0] and np.array(saved["layers"][0]["W"]).shape == (2, 3)


def test_a_run_of_a_runs_axis(capsys):
    doc = _json(capsys, "xor", "--runs", "3", "--run", "2", "--json")
    alone = _json(capsys, "xor", "--seed", "2", "--json")
    assert doc["layers"] == alone["layers"]


def test_markdown_has_latex_tables(capsys):
    assert main(["trace", "xor", "--input", "0,1", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| quantity | formula | value |" in out
    assert "$z = a_{prev} W + b$" in out and r"$a_{prev}^T \delta$" in out and r"$\sigma(z)" in out


def test_evaluation_mode_and_batch_norm_note(capsys):
    doc = _json(capsys, "xor", "--batch-norm", "--json")
    assert any("batch norm" in note for note in doc["notes"]) and doc["train"] is True
    doc = _json(capsys, "xor", "--batch-norm", "--eval", "--json")
    assert doc["notes"] == [] and doc["train"] is False
