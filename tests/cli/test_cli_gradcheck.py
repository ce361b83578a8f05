"""``backproplab gradcheck``: per-parameter errors, exit 1 when a gradient is wrong."""

from __future__ import annotations

import json

import numpy as np

import backproplab as bp
from backproplab.cli import main
from backproplab.layers import Sigmoid


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def test_a_shipped_config_passes(capsys) -> None:
    assert main(["gradcheck", "xor"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert [r[0] for r in rows] == ["0.W", "0.b", "2.W", "2.b"]
    assert [r[1] for r in rows] == ["2x8", "1x8", "8x1", "1x1"]
    assert [int(r[2]) for r in rows] == [16, 8, 8, 1]
    assert all(float(r[3]) < 1e-6 for r in rows)
    assert "PASSED" in out


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
    assert max(float(r[3]) for r in _rows(out)) > 1e-3


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
    for args, words in ((["--eps", "0"], "--eps"), (["--max-checks", "0"], "--max-checks"),
                        (["--model", str(tmp_path / "none.npz")], "no model file"),
                        (["--train", "--model", "m.npz"], "exclude"), (["--dtype", "float32"], "float64")):
        assert main(["gradcheck", "xor", *args]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
