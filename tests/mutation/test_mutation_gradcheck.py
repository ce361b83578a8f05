"""gradcheck's verdict on gradients of every size: right ones pass, 10%-wrong ones fail.

The layer tests' gradients are all of order 1, where any sensible verdict rule gets the answer
right. A rule that divided where it should multiply, or whose floor swallowed small numbers,
would pass a 10%-wrong gradient of size 1e-3 or 1e-6 (a deep sigmoid network's first layer has
gradients that small). Each case here is clear-cut under a relative rule and under an
absolute-plus-relative one alike: a right gradient agrees to ~1e-10, a wrong one is off by 10%.
"""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.layers import Layer

from scale_layer import Scale


def _case(size: float, error: float):
    """A Dense(3, 2) network under MSE whose every weight gradient is about ``size``.

    The output is scaled by ``c = sqrt(size)`` and the targets sit ``sqrt(size)`` away from
    it, so each gradient entry is ~``c * sqrt(size) = size`` while the loss stays ~``size``
    (the finite differences then keep their precision).
    """
    c = np.sqrt(size)
    rng = np.random.default_rng(3)
    dense = bp.Dense(3, 2, rng=rng)
    net = bp.Network([dense, Scale(c, error)], output="identity")
    X = rng.choice([-1.0, 1.0], size=(4, 3)) * rng.uniform(0.8, 1.2, (4, 3))
    z = net.forward(X, train=False)
    y = z - c * rng.choice([-1.0, 1.0], size=z.shape)  # residual of +-c in every entry
    return net, X, y


@pytest.mark.parametrize("size", [1.0, 1e-3, 1e-6])
def test_right_gradients_of_every_size_pass(size):
    net, X, y = _case(size, error=0.0)
    _, grads = bp.loss_and_gradients(net, X, y)
    assert 0.05 * size < np.abs(grads["0.W"]).max() < 20 * size  # the case has the size it claims
    result = bp.gradcheck(net, X, y)
    assert result.passed, result
    assert result.max_error < 1e-8


@pytest.mark.parametrize("size", [1.0, 1e-3, 1e-6])
def test_ten_percent_wrong_gradients_of_every_size_fail(size):
    net, X, y = _case(size, error=0.1)
    result = bp.gradcheck(net, X, y)
    assert not result.passed, result
    # |0.1 a| / (|1.1 a| + |a|) = 0.048 for every parameter below the wrong layer
    assert result.errors["0.W"] == pytest.approx(0.1 / 2.1, rel=0.01)
    assert result.errors["0.b"] == pytest.approx(0.1 / 2.1, rel=0.01)
    assert "FAILED" in repr(result)


def test_one_wrong_parameter_among_right_ones_fails_the_verdict():
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(3, 4, rng=rng), Scale(1.0, 0.1), bp.Dense(4, 1, rng=rng)], output="identity")
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    result = bp.gradcheck(net, X, y)
    assert result.errors["2.W"] < 1e-8 and result.errors["2.b"] < 1e-8  # above the bug: right
    assert result.errors["0.W"] > 1e-2  # below it: wrong
    assert result.max_error == max(result.errors.values())
    assert not result.passed


def test_defaults_are_the_documented_ones():
    net, X, y = _case(1.0, 0.0)
    result = bp.gradcheck(net, X, y)
    assert result.eps == 1e-7  # the report's step
    assert result.threshold == 1e-6
    assert result.checked == {"0.W": 6, "0.b": 2}  # every entry by default


def test_max_checks_samples_that_many_entries_and_reports_them():
    rng = np.random.default_rng(0)
    net = bp.mlp([5, 6, 1], seed=1)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 2, 8)
    result = bp.gradcheck(net, X, y, max_checks=4, sample_seed=2)
    assert result.checked == {"0.W": 4, "0.b": 4, "2.W": 4, "2.b": 1}
    full = bp.gradcheck(net, X, y, max_checks=30)
    assert full.checked == {"0.W": 30, "0.b": 6, "2.W": 6, "2.b": 1}
    # a different seed picks different entries: the worst index of some parameter moves
    other = bp.gradcheck(net, X, y, max_checks=1, sample_seed=5)
    one = bp.gradcheck(net, X, y, max_checks=1, sample_seed=6)
    assert other.worst_index != one.worst_index


def test_worst_index_points_at_the_largest_disagreement():
    rng = np.random.default_rng(0)

    class WrongColumn(Layer):
        """Identity whose backward drops the gradient of output column 1 only."""

        def forward(self, x, *, train=True):
            return x

        def backward(self, dout):
            dx = dout.copy()
            dx[:, 1] *= 1.5
            return dx

    net = bp.Network([bp.Dense(3, 2, rng=rng), WrongColumn()], output="identity")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    result = bp.gradcheck(net, X, y)
    assert result.worst_index["0.b"] == (0, 1)
    assert result.worst_index["0.W"][1] == 1
    assert not result.passed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"eps": 0.0}, "eps"), ({"rtol": -1.0}, "rtol"), ({"atol": -1.0}, "atol"), ({"max_checks": 0}, "max_checks")],
)
def test_bad_settings_are_refused(kwargs, match):
    net, X, y = _case(1.0, 0.0)
    with pytest.raises(ValueError, match=match):
        bp.gradcheck(net, X, y, **kwargs)


def test_a_float32_network_is_refused():
    net = bp.mlp([2, 3, 1], dtype="float32")
    with pytest.raises(ValueError, match="float64"):
        bp.gradcheck(net, np.zeros((2, 2)), [0, 1])
