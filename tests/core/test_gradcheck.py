"""gradcheck: passes on correct gradients, catches wrong ones, leaves the network as it was."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.layers import ACTIVATIONS, Sigmoid

PAIRINGS = [("sigmoid", 2), ("softmax", 3), ("identity", 2)]


def data(output: str, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 4))
    y = {
        "sigmoid": rng.integers(0, 2, (12, k)),
        "softmax": rng.integers(0, k, 12),
        "identity": rng.normal(size=(12, k)),
    }
    return X, y[output]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("output", "k"), PAIRINGS)
def test_three_hidden_layers_agree_below_1e_7(activation, output, k):
    X, y = data(output, k)
    if activation in ("relu", "leaky_relu"):
        X = X + np.sign(X) * 0.05  # keep pre-activations of the first layer off the kink
    net = bp.mlp([4, 6, 5, 4, k], activation=activation, output=output, seed=2)
    result = bp.gradcheck(net, X, y)
    assert result.passed
    assert result.max_error < 1e-7, result
    assert sum(result.checked.values()) == net.n_params


def test_report_xor_network_passes_with_a_sample():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    net = bp.mlp([2, 8, 1], seed=0)
    result = bp.gradcheck(net, X, [0, 1, 1, 0], max_checks=5, sample_seed=3)
    assert result.passed
    assert result.checked == {"0.W": 5, "0.b": 5, "2.W": 5, "2.b": 1}


class BrokenSigmoid(Sigmoid):
    """A sigmoid whose backward pass forgets the factor (1 - a): a classic bug."""

    def backward(self, dout):
        return dout * self._a


def test_a_wrong_backward_pass_fails_the_check():
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(3, 4, rng=rng), BrokenSigmoid(), bp.Dense(4, 1, rng=rng)])
    X = rng.normal(size=(8, 3))
    result = bp.gradcheck(net, X, rng.integers(0, 2, 8))
    assert not result.passed
    assert result.errors["0.W"] > 1e-3  # the layer below the bug is wrong
    assert result.errors["2.W"] < 1e-7  # the layer above it is not
    assert "FAILED" in repr(result)


def test_runs_axis_is_checked_run_by_run():
    X, y = data("sigmoid", 1)
    net = bp.mlp([4, 5, 1], seed=0, runs=3)
    result = bp.gradcheck(net, X, y[:, :1])
    assert result.passed and result.max_error < 1e-7
    assert result.checked["0.W"] == 3 * 4 * 5


def test_network_is_left_untouched():
    X, y = data("sigmoid", 2)
    net = bp.mlp([4, 3, 2], seed=0)
    before = net.copy_params()
    bp.gradcheck(net, X, y)
    for name, p in net.params.items():
        np.testing.assert_array_equal(p, before[name])
        assert p.dtype == np.float64


def test_sampling_is_seeded():
    X, y = data("sigmoid", 2)
    net = bp.mlp([4, 6, 2], seed=0)
    a = bp.gradcheck(net, X, y, max_checks=4, sample_seed=5)
    b = bp.gradcheck(net, X, y, max_checks=4, sample_seed=5)
    assert a.errors == b.errors and a.worst_index == b.worst_index


def test_plain_float64_mode_is_looser_but_still_passes():
    X, y = data("sigmoid", 2)
    net = bp.mlp([4, 6, 5, 4, 2], activation="sigmoid", seed=2)
    extended = bp.gradcheck(net, X, y)
    plain = bp.gradcheck(net, X, y, extended=False)
    assert plain.passed
    assert extended.max_error < plain.max_error  # extended precision lowers the rounding floor


def test_result_reads_well_and_serialises():
    X, y = data("sigmoid", 1)
    result = bp.gradcheck(bp.mlp([4, 3, 1]), X, y[:, :1])
    text = repr(result)
    assert text.startswith("GradcheckResult(PASSED") and "0.W" in text and "2.b" in text
    d = result.to_dict()
    assert d["passed"] is True and set(d["parameters"]) == {"0.W", "0.b", "2.W", "2.b"}


def test_float32_networks_are_refused():
    with pytest.raises(ValueError, match="float64"):
        bp.gradcheck(bp.mlp([2, 2, 1], dtype="float32"), np.ones((2, 2)), [0, 1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"eps": 0}, "eps"), ({"max_checks": 0}, "max_checks"), ({"rtol": -1}, "rtol"), ({"atol": float("nan")}, "atol"),
     ({"max_rows": 0}, "max_rows")],
)
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bp.gradcheck(bp.mlp([2, 2, 1]), np.ones((2, 2)), [0, 1], **kwargs)


def test_threshold_is_still_accepted_as_the_earlier_name_of_rtol():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    net = bp.mlp([2, 3, 1], seed=0)
    assert bp.gradcheck(net, X, y, threshold=1e-4).rtol == 1e-4
    # A tolerance too tight to meet fails under either name, so the alias reaches the verdict.
    assert not bp.gradcheck(net, X, y, threshold=0.0, atol=0.0, extended=False).passed
    with pytest.raises(TypeError, match="threshold"):
        bp.gradcheck(net, X, y, rtol=1e-5, threshold=1e-4)
