"""The worked backward pass of one row: the same numbers as the engine, and the textbook formulas hold.

``trace`` reads every number from the network's own layers; these tests check
that it assembles them right: its gradients equal ``loss_and_gradients`` on the
same row (and an autodiff oracle), and each printed formula holds for the
printed numbers (``z = a_prev @ W + b``, ``delta = dL/da * f'(z)``,
``dL/dW = a_prev^T delta``, ``W_new = W - lr * dL/dW``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.layers import ACTIVATIONS
from backproplab.explain.trace import trace

from oracle import mlp_gradients

OUTPUTS = [("sigmoid", 1, 1), ("sigmoid", 2, [1.0, 0.0]), ("softmax", 3, 2), ("identity", 2, [0.3, -1.2])]


def _reference(net, x, y, *, train=True, run=None):
    """``loss_and_gradients`` on the one row, on a fresh single-run copy (the dropout mask it draws is the trace's)."""
    return bp.loss_and_gradients(net.single_run_copy(run), np.asarray(x)[None], np.asarray(y)[None], train=train)


def _assert_matches(t, loss, grads, tol=1e-12):
    assert abs(t.loss - loss) <= tol
    for layer in t.layers:
        np.testing.assert_allclose(layer.grad_W, grads[f"{layer.name}.W"], rtol=0, atol=tol)
        np.testing.assert_allclose(layer.grad_b, grads[f"{layer.name}.b"][0], rtol=0, atol=tol)


def _assert_formulas(t, lr=None):
    """Every formula printed beside the numbers holds for them, recomputed here with plain NumPy."""
    for k, layer in enumerate(t.layers):
        np.testing.assert_allclose(layer.z, layer.a_prev @ layer.W + layer.b, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(layer.grad_W, np.outer(layer.a_prev, layer.delta), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(layer.grad_b, layer.delta)
        if k < len(t.layers) - 1:
            nxt = t.layers[k + 1]
            np.testing.assert_allclose(layer.da, nxt.W @ nxt.delta, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(layer.delta, layer.da * layer.fprime, rtol=1e-13, atol=1e-15)
            np.testing.assert_array_equal(nxt.a_prev, layer.a)
        if lr is not None:
            np.testing.assert_allclose(layer.W_new, layer.W - lr * layer.grad_W, rtol=0, atol=1e-15)
            np.testing.assert_allclose(layer.b_new, layer.b - lr * layer.grad_b, rtol=0, atol=1e-15)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("output", "k", "target"), OUTPUTS)
def test_gradients_equal_the_engines_for_every_activation_and_output(activation, output, k, target):
    net = bp.mlp([3, 5, 4, k], activation=activation, output=output, seed=7)
    x = np.array([0.5, -1.0, 2.0])
    t = trace(net, x, target, optimizer=bp.SGD(0.1))
    loss, grads = _reference(net, x, target)
    _assert_matches(t, loss, grads)
    _assert_formulas(t, lr=0.1)
    p, y = t.layers[-1].a, t.target
    expected = {"sigmoid": (p - y) / k, "softmax": p - y, "identity": 2 * (p - y) / k}[output]
    np.testing.assert_allclose(t.layers[-1].delta, expected, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_gradients_equal_an_autodiff_oracle(activation):
    net = bp.mlp([2, 4, 3, 1], activation=activation, seed=3)
    x, y = np.array([1.0, 0.0]), 1
    t = trace(net, x, y)
    weights = [p for layer in t.layers for p in (layer.W, layer.b[None])]
    expected = mlp_gradients(weights, x[None], np.array([[1.0]]), activation, "binary_cross_entropy")
    for layer, (dW, db) in zip(t.layers, zip(expected[::2], expected[1::2], strict=True), strict=True):
        np.testing.assert_allclose(layer.grad_W, dW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.grad_b, db[0], rtol=1e-10, atol=1e-14)


def test_dropout_with_its_fixed_mask():
    net = bp.mlp([3, 8, 1], activation="tanh", dropout=0.5, seed=1)
    x = np.array([0.2, -0.4, 1.0])
    t = trace(net, x, 0)
    _assert_matches(t, *_reference(net, x, 0))
    _assert_formulas(t)
    mask = t.layers[0].steps[-1].deriv  # the dropout step's derivative is its mask / (1 - rate)
    assert t.layers[0].steps[-1].layer == "dropout"
    assert set(np.unique(mask)) == {0.0, 2.0}  # some units dropped, the others scaled by 2
    assert np.all(t.layers[0].delta[mask == 0] == 0) and np.any(t.layers[0].delta != 0)
    assert any("dropout" in note for note in t.notes)


def test_batch_norm_and_dropout_in_training_mode_pass_nothing_below_batch_norm():
    # A batch of one row is normalised against itself: batch norm outputs beta, so no gradient reaches layer 0.
    net = bp.mlp([2, 6, 1], dropout=0.3, batch_norm=True, seed=2)
    x = np.array([1.0, 0.0])
    t = trace(net, x, 1)
    _assert_matches(t, *_reference(net, x, 1))
    _assert_formulas(t)
    assert [s.layer for s in t.layers[0].steps] == ["batch_norm", "sigmoid", "dropout"]
    np.testing.assert_array_equal(t.layers[0].grad_W, 0)
    np.testing.assert_array_equal(t.layers[0].steps[0].out, 0)  # beta
    assert np.any(t.layers[-1].grad_W != 0)
    assert any("batch norm" in note for note in t.notes)


def test_batch_norm_and_dropout_in_evaluation_mode():
    net = bp.mlp([2, 6, 1], dropout=0.3, batch_norm=True, seed=2)
    bn = net.layers[1]
    bn.buffers["running_mean"][...] = [[0.1, -0.2, 0.3, 0.0, 0.5, -0.1]]
    bn.buffers["running_var"][...] = [[0.5, 2.0, 1.0, 1.5, 0.7, 0.9]]
    net.params["1.gamma"][...] = [[1.5, 0.5, 1.0, 2.0, 0.8, 1.2]]
    x = np.array([1.0, -0.5])
    t = trace(net, x, 1, train=False)
    _assert_matches(t, *_reference(net, x, 1, train=False))
    _assert_formulas(t)
    bn_step = t.layers[0].steps[0]
    np.testing.assert_allclose(bn_step.deriv, (net.params["1.gamma"] / np.sqrt(bn.buffers["running_var"] + 1e-5))[0],
                               rtol=1e-14)
    assert np.all(t.layers[0].grad_W != 0)
    assert not t.notes


def test_the_network_is_left_untouched():
    net = bp.mlp([2, 6, 1], batch_norm=True, dropout=0.5, seed=4)
    before = {**net.copy_params(), **{k: v.copy() for k, v in net.buffers.items()}}
    trace(net, [1.0, 1.0], 0, optimizer=bp.Adam(0.1))
    after = {**net.params, **net.buffers}
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value)


def test_a_runs_axis_is_refused_unless_a_run_is_picked():
    net = bp.mlp([2, 4, 1], seed=10, runs=3, dropout=0.2)
    with pytest.raises(ValueError, match=r"3 runs.*run=r \(0\.\.2\)"):
        trace(net, [1.0, 0.0], 1)
    with pytest.raises(ValueError, match=r"run must be an integer in 0\.\.2"):
        trace(net, [1.0, 0.0], 1, run=3)
    with pytest.raises(ValueError, match="no runs axis"):
        trace(bp.mlp([2, 4, 1]), [1.0, 0.0], 1, run=0)
    # Run r of seed s is the network of seed s + r, dropout mask included.
    t = trace(net, [1.0, 0.0], 1, run=2)
    alone = trace(bp.mlp([2, 4, 1], seed=12, dropout=0.2), [1.0, 0.0], 1)
    for a, b in zip(t.layers, alone.layers, strict=True):
        np.testing.assert_array_equal(a.grad_W, b.grad_W)
        assert a.W_new is None


def test_the_optimizer_step_is_the_optimizers_own():
    net = bp.mlp([2, 3, 1], seed=5)
    t = trace(net, [0.0, 1.0], 1, optimizer=bp.Adam(0.01))
    params = net.copy_params()
    bp.Adam(0.01).step(params, bp.loss_and_gradients(net, np.array([[0.0, 1.0]]), [1])[1])
    for layer in t.layers:
        np.testing.assert_array_equal(layer.W_new, params[f"{layer.name}.W"])
    assert "first step" in t.update_rule
    assert trace(net, [0.0, 1.0], 1, optimizer=bp.SGD(0.1)).update_rule == "W - lr * dL/dW"


def test_bad_rows_are_named():
    net = bp.mlp([2, 3, 1])
    with pytest.raises(ValueError, match=r"one input row of shape \(2,\)"):
        trace(net, [[1.0, 0.0]], 1)
    with pytest.raises(ValueError, match="features"):
        trace(net, [1.0, 0.0, 1.0], 1)
    with pytest.raises(ValueError, match="labels in"):
        trace(net, [1.0, 0.0], 3)
    with pytest.raises(TypeError, match="Network"):
        trace("net", [1.0, 0.0], 1)


def test_to_dict_is_the_documented_document():
    t = trace(bp.mlp([2, 3, 1], seed=0), [1.0, 0.0], 1)
    d = t.to_dict()
    assert {"input", "target", "loss", "layers"} <= set(d)
    assert [layer["name"] for layer in d["layers"]] == ["0", "2"]
    assert {"W", "b", "z", "a", "delta", "grad_W", "grad_b"} <= set(d["layers"][0])
    assert np.array(d["layers"][0]["grad_W"]).shape == (2, 3)


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=st.integers(0, 2**16),
       activation=st.sampled_from(sorted(ACTIVATIONS)), data=st.data())
def test_any_shape(sizes, seed, activation, data):
    net = bp.mlp([*sizes, 1], activation=activation, seed=seed)
    x = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=sizes[0], max_size=sizes[0])))
    y = data.draw(st.integers(0, 1))
    t = trace(net, x, y, optimizer=bp.SGD(0.5))
    _assert_matches(t, *_reference(net, x, y))
    _assert_formulas(t, lr=0.5)
    assert [layer.W.shape for layer in t.layers] == [(a, b) for a, b in zip([*sizes], [*sizes[1:], 1], strict=True)]
