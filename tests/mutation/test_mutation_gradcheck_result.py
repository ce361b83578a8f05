"""gradcheck's arguments each take effect, and its result (counts, modes, JSON, text) says what was checked."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp

from scale_layer import Scale


def _wrong(error=0.1):
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(3, 2, rng=rng), Scale(1.0, error)], output="identity")
    return net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2))


def test_a_wrong_gradient_fails_every_entry_and_the_counts_say_so():
    net, X, y = _wrong()
    result = bp.gradcheck(net, X, y)
    assert result.failed == {"0.W": 6, "0.b": 2}
    assert result.checked == {"0.W": 6, "0.b": 2}
    assert result.kinks == {"0.W": 0, "0.b": 0} and result.n_kinks == 0
    assert result.modes == ("train",)
    assert (result.rtol, result.atol, result.eps) == (1e-6, 1e-9, 1e-7)
    d = result.to_dict()
    assert d["passed"] is False and d["max_error"] == result.max_error
    assert (d["rtol"], d["atol"], d["eps"], d["modes"], d["kinks"]) == (1e-6, 1e-9, 1e-7, ["train"], 0)
    assert d["parameters"]["0.b"]["checked"] == 2 and d["parameters"]["0.b"]["failed"] == 2
    assert d["parameters"]["0.W"]["max_error"] == result.errors["0.W"]
    row = d["parameters"]["0.W"]["modes"]["train"]
    assert row["failed"] == 6 and row["kinks"] == 0
    assert row["error"] == pytest.approx(0.1 / 2.1, rel=0.01)
    assert row["max_abs_error"] > 0
    text = repr(result)
    assert text.startswith("GradcheckResult(FAILED (8 entries outside): |a - n| <= 1e-09 + 1e-06 * (|a| + |n|)")
    assert text.splitlines()[1:] == ["  0.W  4.76e-02  (6 entries, 6 failed)",
                                     "  0.b  4.76e-02  (2 entries, 2 failed))"]  # one mode: no mode column


def test_tolerances_take_effect():
    net, X, y = _wrong(error=1e-4)  # relative error 5e-5
    assert not bp.gradcheck(net, X, y).passed
    assert bp.gradcheck(net, X, y, rtol=1e-4).passed  # looser relative tolerance
    assert bp.gradcheck(net, X, y, rtol=0.0, atol=1.0).passed  # or a large absolute one
    assert not bp.gradcheck(net, X, y, rtol=0.0, atol=1e-6).passed


def test_a_right_network_with_dropout_is_checked_in_both_modes_and_reported_per_mode():
    rng = np.random.default_rng(1)
    net = bp.mlp([3, 4, 1], dropout=0.5, activation="tanh", seed=2)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
    result = bp.gradcheck(net, X, y)
    assert result.passed and result.modes == ("train", "eval")
    assert len(result.details) == 2 * len(net.params)
    assert {(d.mode, d.name) for d in result.details} == {(m, n) for m in ("train", "eval") for n in net.params}
    assert all(d.failed == 0 and d.checked == net.params[d.name].size for d in result.details)
    d = result.to_dict()
    assert d["passed"] is True and d["modes"] == ["train", "eval"]
    assert set(d["parameters"]["3.W"]["modes"]) == {"train", "eval"}
    text = repr(result)
    assert text.startswith("GradcheckResult(PASSED: ") and "train  0.W" in text and "eval   0.W" in text
    only = bp.gradcheck(net, X, y, train=False)
    assert only.modes == ("eval",) and len(only.details) == len(net.params)


def test_kinks_are_counted_and_not_judged():
    net = bp.Network([bp.Dense(2, 2), bp.ReLU(), bp.Dense(2, 1)], output="identity")
    net.set_params({"0.W": [[1.0, 0.0], [0.0, 1.0]], "0.b": [[0.0, 0.0]], "2.W": [[1.0], [1.0]], "2.b": [[0.0]]})
    X = np.array([[0.0, 0.0], [1.0, 2.0]])  # the first row sits on the kink of both units
    result = bp.gradcheck(net, X, [1.0, 0.0])
    assert result.n_kinks > 0 and result.kinks["0.b"] == 2
    assert result.passed
    assert "at a kink, not judged" in result.summary()
    assert result.to_dict()["kinks"] == result.n_kinks
    assert result.to_dict()["parameters"]["0.b"]["kinks"] == 2 and result.to_dict()["parameters"]["0.W"]["kinks"] == 0


def test_max_rows_checks_a_sample_of_the_rows():
    net, X, y = _wrong(error=0.0)
    rows = bp.gradcheck(net, np.vstack([X, X]), np.vstack([y, y]), max_rows=3)
    assert rows.passed
    with pytest.raises(ValueError, match="max_rows"):
        bp.gradcheck(net, X, y, max_rows=0)
