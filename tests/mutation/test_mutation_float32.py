"""float32 end to end: every array a float32 network makes stays float32, and its numbers are float64's, rounded.

A float32 network that silently computes a step in float64 (a constant that upcasts, a
buffer created with the default dtype) is slower and no longer what the user asked for;
one that computes in float32 but with a wrong path is wrong. Both show here: each layer's
output and input gradient, every parameter, gradient, buffer and optimizer state is checked
for its dtype, and the gradients are compared with a float64 twin holding the same weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp

F32 = np.dtype(np.float32)


def _twins(activation, output, k, runs, batch_norm, dropout):
    kwargs = dict(activation=activation, output=output, seed=4, runs=runs, batch_norm=batch_norm, dropout=dropout)
    net32 = bp.mlp([3, 6, 5, k], dtype="float32", **kwargs)
    net64 = bp.mlp([3, 6, 5, k], dtype="float64", **kwargs)
    net64.set_params({name: p.astype(np.float64) for name, p in net32.params.items()})
    return net32, net64


def _data(output, k, runs):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    y = {"sigmoid": rng.integers(0, 2, (7, k)), "softmax": rng.integers(0, k, 7), "identity": rng.normal(size=(7, k))}
    return X, y[output]


CASES = [
    ("sigmoid", "sigmoid", 1, None, False, 0.0),
    ("tanh", "softmax", 3, None, True, 0.0),
    ("leaky_relu", "identity", 2, None, False, 0.3),
    ("relu", "sigmoid", 2, 2, True, 0.2),
    ("identity", "softmax", 3, 2, False, 0.0),
]


@pytest.mark.parametrize(("activation", "output", "k", "runs", "batch_norm", "dropout"), CASES)
def test_every_array_of_a_float32_pass_is_float32(activation, output, k, runs, batch_norm, dropout):
    net, _ = _twins(activation, output, k, runs, batch_norm, dropout)
    X, _ = _data(output, k, runs)
    x = X.astype(np.float32)
    for layer in net.layers:  # forward, layer by layer
        x = layer.forward(x, train=True)
        assert x.dtype == F32, type(layer).__name__
    dout = np.ones_like(x)
    for layer in reversed(net.layers):  # backward, layer by layer
        dout = layer.backward(dout)
        assert dout.dtype == F32, type(layer).__name__
    for arrays in (net.params, net.grads, net.buffers):
        assert all(a.dtype == F32 for a in arrays.values())


@pytest.mark.parametrize(("activation", "output", "k", "runs", "batch_norm", "dropout"), CASES)
def test_float32_gradients_match_float64_to_float32_precision(activation, output, k, runs, batch_norm, dropout):
    net32, net64 = _twins(activation, output, k, runs, batch_norm, dropout)
    X, y = _data(output, k, runs)
    loss32, grads32 = bp.loss_and_gradients(net32, X, y)
    loss64, grads64 = bp.loss_and_gradients(net64, X, y)
    assert np.asarray(loss32).dtype == F32
    np.testing.assert_allclose(loss32, loss64, rtol=1e-5)
    # float32 keeps ~7 digits; a few roundings per layer leave the error well under 1e-4 of the gradients'
    # scale (a bias that feeds a batch norm has a true gradient of 0 and a float32 one of rounding size)
    scale = max(np.abs(g).max() for g in grads64.values())
    for name, g64 in grads64.items():
        g32 = grads32[name]
        assert g32.dtype == F32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize(
    "make",
    [lambda: bp.SGD(0.1), lambda: bp.SGD(0.1, momentum=0.9, nesterov=True, clip_norm=0.5),
     lambda: bp.RMSprop(0.01, clip_value=0.1), lambda: bp.Adam(0.01, weight_decay=0.1), lambda: bp.AdamW(0.01)],
    ids=["sgd", "nesterov", "rmsprop", "adam", "adamw"],
)
def test_optimizer_steps_keep_float32_and_follow_float64(make):
    net32, net64 = _twins("tanh", "sigmoid", 1, 2, False, 0.0)
    X, y = _data("sigmoid", 1, 2)
    opt32, opt64 = make(), make()
    for _ in range(3):
        for net, opt in ((net32, opt32), (net64, opt64)):
            bp.loss_and_gradients(net, X, y)
            opt.step(net.params, net.grads)
    for name, p64 in net64.params.items():
        assert net32.params[name].dtype == F32
        np.testing.assert_allclose(net32.params[name], p64, rtol=1e-4, atol=1e-5)
    for slot in opt32.state.values():
        assert all(a.dtype == F32 for a in slot.values())


def test_fit_on_a_float32_network_leaves_everything_float32():
    net, _ = _twins("relu", "softmax", 3, None, True, 0.2)
    X, y = _data("softmax", 3, None)
    history = bp.fit(net, X, y, optimizer=bp.Adam(0.01), epochs=3, batch_size=4, progress=False)
    assert all(a.dtype == F32 for a in (*net.params.values(), *net.grads.values(), *net.buffers.values()))
    assert np.isfinite(history.loss).all()
    assert net.predict_proba(X).dtype == F32


@pytest.mark.parametrize("runs", [None, 3])
def test_float32_dense_given_a_float64_input_writes_float32_gradients_of_the_right_values(runs):
    layer = bp.Dense(4, 3, rng=np.random.default_rng(0), runs=runs, dtype="float32")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))  # float64, shared by the runs
    dout = rng.normal(size=(5, 3) if runs is None else (runs, 5, 3)).astype(np.float32)
    layer.forward(x)
    dx = layer.backward(dout)
    W = layer.params["W"].astype(np.float64)
    assert layer.grads["W"].dtype == layer.grads["b"].dtype == F32
    np.testing.assert_allclose(layer.grads["W"], x.T @ dout.astype(np.float64), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.grads["b"], dout.sum(axis=-2, keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, dout @ W.swapaxes(-1, -2), rtol=1e-5, atol=1e-6)
