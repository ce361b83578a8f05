"""``backproplab gradcheck``: per-parameter errors, exit 1 when a gradient is wrong."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

import backproplab as bp
from backproplab import data
from backproplab.cli import main
from backproplab.core.layers import Sigmoid


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_a_shipped_config_passes(capsys) -> None:
    assert main(["gradcheck", "xor"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert [r[0] for r in rows] == ["train"] * 4
    assert [r[1] for r in rows] == ["0.W", "0.b", "2.W", "2.b"]
    assert [r[2] for r in rows] == ["2x8", "1x8", "8x1", "1x1"]
    assert [int(r[3]) for r in rows] == [16, 8, 8, 1]
    assert [(int(r[4]), int(r[5])) for r in rows] == [(0, 0)] * 4  # no kinks, nothing failed
    assert all(float(r[6]) < 1e-6 for r in rows)
    assert "PASSED: |a - n| <= 1e-09 + 1e-06 * (|a| + |n|)" in out


def test_json_after_training(capsys) -> None:
    assert main(["gradcheck", "--data", "and", "--hidden", "5,3", "--activation", "tanh", "--train", "--epochs",
                 "20", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["passed"] is True and result["trained"] is True
    assert list(result["parameters"]) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert result["max_error"] == max(p["max_error"] for p in result["parameters"].values())
    assert captured.err == ""


def test_a_wrong_gradient_fails_with_exit_1(capsys, monkeypatch) -> None:
    monkeypatch.setattr(Sigmoid, "backward", lambda self, dout: dout * self._a)  # forgot (1 - a)
    assert main(["gradcheck", "xor", "-q"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert max(float(r[6]) for r in _rows(out)) > 1e-3 and sum(int(r[5]) for r in _rows(out)) > 0


def test_a_saved_model(tmp_path, capsys) -> None:
    net = bp.mlp([2, 3, 1], seed=1, runs=2)
    net.save(tmp_path / "m.npz")
    assert main(["gradcheck", "--data", "or", "--model", str(tmp_path / "m.npz"), "--max-checks", "2",
                 "--json", "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == str(tmp_path / "m.npz")
    assert all(p["checked"] == min(2, size) for p, size in zip(result["parameters"].values(),
                                                              [2 * 2 * 3, 2 * 3, 2 * 3, 2], strict=True))
    assert np.isfinite(result["max_error"])


def test_bad_usage_exits_2(tmp_path, capsys) -> None:
    for args, words in ((["--eps", "0"], "--eps"), (["--atol", "-1"], "--atol"),
                        (["--max-rows", "0"], "--max-rows"), (["--max-checks", "0"], "--max-checks"),
                        (["--model", str(tmp_path / "none.npz")], "no model file"),
                        (["--train", "--model", "m.npz"], "exclude"), (["--dtype", "float32"], "float64")):
        assert main(["gradcheck", "xor", *args]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def test_networks_that_cried_wolf_pass(capsys) -> None:
    # Dropout (a fixed mask, and evaluation mode), batch norm (a bias with a zero gradient), ReLU at its kink.
    for flags, modes, kinks in ((["--dropout", "0.5"], {"train", "eval"}, 0), (["--batch-norm"], {"train", "eval"}, 0),
                                (["--activation", "relu"], {"train"}, 8),
                                (["--activation", "relu", "--dropout", "0.5", "--batch-norm", "--runs", "2"],
                                 {"train", "eval"}, None)):
        assert main(["gradcheck", "xor", *flags, "--json", "-q"]) == 0, flags
        result = json.loads(capsys.readouterr().out)
        assert result["passed"] is True and set(result["modes"]) == modes
        assert kinks is None or result["kinks"] == kinks
        assert (result["rtol"], result["atol"]) == (1e-6, 1e-9)


def _network_train_builds(argv: list[str]) -> bp.Network:
    """The network ``backproplab train ARGV`` would start from, taken where it is handed to ``fit``."""
    from backproplab.experiments import build

    class Stop(Exception):
        pass

    def capture(net, *args, **kwargs):
        captured.append(net)
        raise Stop

    captured: list = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "fit", capture)
        with pytest.raises(Stop):
            main(["train", *argv, "-q"])
    return captured[0]


def _network_gradcheck_checks(argv: list[str]) -> bp.Network:
    from backproplab.cli import gradcheck as command

    captured: list = []
    original = command.gradcheck
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(command, "gradcheck", lambda net, *a, **k: captured.append(net) or original(net, *a, **k))
        assert main(["gradcheck", *argv, "--max-checks", "2", "--max-rows", "8", "-q"]) == 0
    return captured[0]


def test_the_network_checked_is_the_one_train_builds(monkeypatch, capsys) -> None:
    monkeypatch.setattr(data, "mnist1d", functools.cache(data.mnist1d))  # generated once, not twice
    for argv in (["mnist1d"], ["--data", "iris", "--output", "softmax"], ["--data", "moons", "--output", "softmax"],
                 ["xor", "--hidden", "3,2", "--activation", "tanh", "--seed", "4"]):
        checked = _network_gradcheck_checks(argv)
        built = _network_train_builds(argv)
        assert checked.to_config() == built.to_config(), argv
        for name, p in built.params.items():
            np.testing.assert_array_equal(checked.params[name], p, err_msg=f"{argv} {name}")
    out = capsys.readouterr().out
    assert "6.W" in out and "256x10" in out  # mnist1d's 40-256-256-10 network, ten classes


def test_a_big_network_is_checked_on_a_sample(capsys) -> None:
    assert main(["gradcheck", "--data", "iris", "--output", "softmax", "--hidden", "50,50", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["rows"] == 32 and {p["checked"] for p in result["parameters"].values()} == {3, 10}
    assert captured.err == ""  # --json silences the status line
