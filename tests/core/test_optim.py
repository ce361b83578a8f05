"""SGD: one hand-worked step, clipping by value and by global norm (per run)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.optim import clip_scale, global_norm


def test_one_hand_worked_sgd_step_on_the_report_network():
    """A 1-1-1 sigmoid network, x = 1, y = 1, every number written out."""
    net = bp.mlp([1, 1, 1])
    net.set_params({"0.W": [[0.5]], "0.b": [[0.0]], "2.W": [[-1.0]], "2.b": [[0.25]]})
    X, y = np.array([[1.0]]), np.array([1])

    h = 1 / (1 + math.exp(-0.5))  # hidden activation
    z = -1.0 * h + 0.25  # output logit
    p = 1 / (1 + math.exp(-z))
    delta = p - y[0]  # dL/dz for sigmoid + BCE
    dh = delta * -1.0 * h * (1 - h)  # back through W2 = -1 and the sigmoid's a * (1 - a)
    expected_grads = {"2.W": delta * h, "2.b": delta, "0.W": dh * 1.0, "0.b": dh}

    loss, grads = bp.loss_and_gradients(net, X, y)
    assert loss == pytest.approx(-math.log(p), rel=1e-14)
    for name, g in expected_grads.items():
        assert grads[name].item() == pytest.approx(g, rel=1e-13)

    before = {name: p.item() for name, p in net.params.items()}
    bp.SGD(lr=0.1).step(net.params, net.grads)
    for name, g in expected_grads.items():
        assert net.params[name].item() == pytest.approx(before[name] - 0.1 * g, rel=1e-14)


def test_clip_value_bounds_each_entry():
    p = {"w": np.zeros((1, 3))}
    bp.SGD(lr=1.0, clip_value=0.5).step(p, {"w": np.array([[-2.0, 0.1, 3.0]])})
    np.testing.assert_array_equal(p["w"], [[0.5, -0.1, -0.5]])


def test_clip_norm_scales_the_global_norm():
    grads = {"a": np.array([[3.0]]), "b": np.array([[4.0]])}  # global norm 5
    p = {"a": np.zeros((1, 1)), "b": np.zeros((1, 1))}
    bp.SGD(lr=1.0, clip_norm=1.0).step(p, grads)
    np.testing.assert_allclose([p["a"].item(), p["b"].item()], [-0.6, -0.8])
    np.testing.assert_array_equal(grads["a"], [[3.0]])  # the caller's gradients are not modified


def test_clip_norm_is_computed_per_run():
    # run 0 has norm 5 (clipped to 1), run 1 has norm 0.5 (left alone).
    grads = {"a": np.array([[[3.0]], [[0.3]]]), "b": np.array([[[4.0]], [[0.4]]])}
    np.testing.assert_allclose(global_norm(grads), [5.0, 0.5])
    np.testing.assert_allclose(clip_scale(grads, 1.0).ravel(), [0.2, 1.0])
    p = {"a": np.zeros((2, 1, 1)), "b": np.zeros((2, 1, 1))}
    bp.SGD(lr=1.0, clip_norm=1.0).step(p, grads)
    np.testing.assert_allclose(p["a"].ravel(), [-0.6, -0.3])
    np.testing.assert_allclose(p["b"].ravel(), [-0.8, -0.4])


def test_float32_parameters_stay_float32():
    p = {"w": np.ones((2, 2), dtype=np.float32)}
    bp.SGD(0.1, clip_norm=1.0).step(p, {"w": np.ones((2, 2), dtype=np.float32)})
    assert p["w"].dtype == np.float32


@pytest.mark.parametrize("lr", [0, -1, float("nan"), float("inf")])
def test_bad_learning_rates_fail_at_construction(lr):
    with pytest.raises(ValueError, match=r"lr must be finite and > 0"):
        bp.SGD(lr)


def test_non_numeric_learning_rate_is_a_type_error():
    with pytest.raises(TypeError, match="lr must be a number"):
        bp.SGD("0.1")


def test_repr_states_the_options():
    assert repr(bp.SGD(0.1, clip_norm=5.0)) == "SGD(lr=0.1, clip_norm=5.0)"
