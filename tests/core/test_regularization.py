"""Dropout and BatchNorm: gradients (finite differences and the autograd oracle), modes, runs axis, seeding."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.layers import Dense, Tanh
from backproplab.core.network import LAYERS, Network, loss_and_gradients
from backproplab.core.regularization import BatchNorm, Dropout

from oracle import ACTIVATIONS, LOSSES


def _data(rng, n=12, d=3, k=3, runs=None):
    X = rng.standard_normal((n, d) if runs is None else (runs, n, d))
    y = rng.integers(0, k, n if runs is None else (runs, n))
    return X, y


def _net(runs=None, *, batch_norm=True, dropout=0.3, seed=0, activation="tanh"):
    net = bp.mlp([3, 5, 4, 3], activation=activation, output="softmax", seed=seed, runs=runs,
                 dropout=dropout, batch_norm=batch_norm)
    rng = np.random.default_rng(seed + 100)
    for name, p in net.params.items():  # move gamma/beta off their initial 1/0 so their gradients are generic
        if "gamma" in name or "beta" in name:
            p += 0.3 * rng.standard_normal(p.shape)
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.reuse_mask = True  # the loss must be one function of the parameters
    return net


# --- the autograd oracle: the same network written from its definitions ----------------------------
def _oracle_loss(params, layers, X, Y, masks, train):
    a = X
    for i, layer in enumerate(layers):
        if isinstance(layer, Dense):
            a = anp.matmul(a, params[f"{i}.W"]) + params[f"{i}.b"]
        elif isinstance(layer, BatchNorm):
            if train:
                mu = anp.mean(a, axis=-2, keepdims=True)
                var = anp.mean((a - mu) ** 2, axis=-2, keepdims=True)
            else:
                mu, var = layer.buffers["running_mean"], layer.buffers["running_var"]
            a = params[f"{i}.gamma"] * (a - mu) / anp.sqrt(var + layer.eps) + params[f"{i}.beta"]
        elif isinstance(layer, Tanh):
            a = ACTIVATIONS["tanh"](a)
        elif isinstance(layer, Dropout):
            a = a * masks[i] if train else a
    return anp.sum(LOSSES["cross_entropy"](a, Y))


@pytest.mark.parametrize("runs", [None, 3])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize(("batch_norm", "dropout"), [(True, 0.0), (False, 0.4), (True, 0.4)])
def test_gradients_match_autograd(runs, train, batch_norm, dropout):
    rng = np.random.default_rng(7)
    net = _net(runs, batch_norm=batch_norm, dropout=dropout)
    X, y = _data(rng, runs=runs)
    if not train:  # give the running statistics values far from their initial 0/1
        for _ in range(3):
            net.forward(rng.standard_normal(X.shape) * 2 + 1, train=True)
    _, grads = loss_and_gradients(net, X, y, train=train)
    masks = {i: layer._mask for i, layer in enumerate(net.layers) if isinstance(layer, Dropout)}
    Y = np.eye(3)[y]
    expected = grad(_oracle_loss)(net.copy_params(), net.layers, X, Y, masks, train)
    for name, g in grads.items():
        np.testing.assert_allclose(g, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("runs", [None, 2])
def test_gradcheck_passes_with_dropout_and_batch_norm(runs):
    rng = np.random.default_rng(3)
    net = _net(runs, dropout=0.25)
    X, y = _data(rng, runs=runs)
    # A bias feeding batch norm has a zero gradient (the mean subtraction removes it): both estimates
    # are rounding noise (~1e-12), so the denominator floor `tiny` is raised above that noise; every
    # other gradient here has a norm above 1e-2, where a wrong backward pass would still show.
    _, grads = loss_and_gradients(net, X, y)
    assert np.abs(grads["0.b"]).max() < 1e-12 and np.abs(grads["4.b"]).max() < 1e-12
    assert min(np.linalg.norm(g) for name, g in grads.items() if name not in ("0.b", "4.b")) > 1e-2
    result = bp.gradcheck(net, X, y, max_checks=12, tiny=1e-5)
    assert result.passed, result
    assert any("gamma" in name for name in result.errors)


def test_gradcheck_holds_the_mask_even_if_dropout_redraws_it():
    # gradcheck restores the generators' state before every evaluation: one mask, whatever reuse_mask says.
    rng = np.random.default_rng(3)
    net = _net(None, batch_norm=False, dropout=0.5)
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.reuse_mask = False
    X, y = _data(rng)
    assert bp.gradcheck(net, X, y, max_checks=5).passed


@settings(max_examples=20, deadline=None)
@given(runs=st.integers(1, 3), batch=st.integers(2, 9), width=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_batch_norm_backward_matches_autograd_on_random_shapes(runs, batch, width, seed):
    rng = np.random.default_rng(seed)
    layer = BatchNorm(width, runs=runs)
    layer.params["gamma"][...] = rng.standard_normal(layer.params["gamma"].shape)
    x = rng.standard_normal((runs, batch, width))
    dout = rng.standard_normal((runs, batch, width))
    layer.forward(x, train=True)
    dx = layer.backward(dout)

    def f(x, gamma, beta):
        mu = anp.mean(x, axis=-2, keepdims=True)
        var = anp.mean((x - mu) ** 2, axis=-2, keepdims=True)
        return anp.sum(dout * (gamma * (x - mu) / anp.sqrt(var + 1e-5) + beta))

    args = (x, layer.params["gamma"], layer.params["beta"])
    np.testing.assert_allclose(dx, grad(f, 0)(*args), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(layer.grads["gamma"], grad(f, 1)(*args), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(layer.grads["beta"], grad(f, 2)(*args), rtol=1e-8, atol=1e-10)


def test_batch_norm_train_normalises_and_tracks_running_statistics():
    rng = np.random.default_rng(0)
    layer = BatchNorm(4, momentum=0.5)
    x = rng.normal(3.0, 2.0, (64, 4))
    out = layer.forward(x, train=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-4)  # eps keeps it just under 1
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.5 * x.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(layer.buffers["running_var"], 0.5 + 0.5 * x.var(axis=0, ddof=1, keepdims=True))


def test_batch_norm_eval_uses_running_statistics_and_leaves_them():
    layer = BatchNorm(2)
    layer.buffers["running_mean"][...] = [[1.0, -1.0]]
    layer.buffers["running_var"][...] = [[4.0, 0.25]]
    x = np.array([[3.0, 0.0], [1.0, -1.0]])
    out = layer.forward(x, train=False)
    np.testing.assert_allclose(out, (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5))
    np.testing.assert_array_equal(layer.buffers["running_mean"], [[1.0, -1.0]])  # unchanged
    # One-sample evaluation gives the same row as in a batch: no batch statistics are used.
    np.testing.assert_allclose(layer.forward(x[:1], train=False), out[:1])


def test_dropout_is_identity_in_evaluation_and_inverted_in_training():
    layer = Dropout(0.25, seed=1)
    x = np.ones((2000, 50))
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    out = layer.forward(x, train=True)
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.01  # 100,000 draws: the standard error is 0.0014
    assert abs(out.mean() - 1.0) < 0.02  # inverted scaling keeps the expectation
    dout = np.arange(x.size, dtype=float).reshape(x.shape)
    np.testing.assert_array_equal(layer.backward(dout), dout * out)  # the same mask, x was ones


def test_dropout_masks_are_seeded_and_fresh_per_forward():
    x = np.ones((5, 8))
    a, b, c = Dropout(0.5, seed=3), Dropout(0.5, seed=3), Dropout(0.5, seed=4)
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, c.forward(x))
    assert not np.array_equal(first, a.forward(x))  # a new mask each training forward
    a.reuse_mask = True
    np.testing.assert_array_equal(a.forward(x), a.forward(x))


def test_stacked_runs_equal_separate_networks_with_dropout_and_batch_norm():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 3, 16)
    stacked = bp.mlp([3, 6, 3], output="softmax", seed=10, runs=3, dropout=0.3, batch_norm=True)
    bp.fit(stacked, X, y, optimizer=bp.SGD(0.1), epochs=4, batch_size=8, progress=False)
    for r in range(3):
        alone = bp.mlp([3, 6, 3], output="softmax", seed=10 + r, dropout=0.3, batch_norm=True)
        bp.fit(alone, X, y, optimizer=bp.SGD(0.1), epochs=4, batch_size=8, progress=False)
        for name, p in alone.params.items():
            np.testing.assert_allclose(stacked.params[name][r], p, rtol=1e-12, atol=1e-14, err_msg=name)
        for name, b in alone.buffers.items():
            np.testing.assert_allclose(stacked.buffers[name][r], b, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(stacked.predict_proba(X)[r], alone.predict_proba(X), rtol=1e-12)


def test_layers_are_registered_and_rebuild_from_config():
    for layer in (Dropout(0.2, seed=[1, 2], stream=3), BatchNorm(4, momentum=0.2, eps=1e-3)):
        config = layer.to_config()
        rebuilt = LAYERS[config.pop("type")](**config)
        assert rebuilt.to_config() == layer.to_config()


def test_network_with_batch_norm_only_needs_dense_for_runs():
    net = Network([Dense(2, 3, runs=2), BatchNorm(3, runs=2), Tanh(), Dense(3, 1, runs=2)])
    assert net.runs == 2 and set(net.buffers) == {"1.running_mean", "1.running_var"}
    assert net.buffers["1.running_var"].shape == (2, 1, 3)


@pytest.mark.parametrize(
    ("make", "match"),
    [(lambda: Dropout(1.0), "rate"), (lambda: Dropout(-0.1), "rate"), (lambda: Dropout(0.1, seed=[]), "seed"),
     (lambda: BatchNorm(0), "num_features"), (lambda: BatchNorm(3, momentum=1.5), "momentum"),
     (lambda: BatchNorm(3, eps=0), "eps"), (lambda: bp.mlp([2, 2, 1], dropout=1.2), "dropout")],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
