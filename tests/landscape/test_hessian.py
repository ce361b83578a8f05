"""The Hessian against an autodiff oracle (autograd's own Hessian of tests/oracle.py's loss), and its spectrum."""

from __future__ import annotations

import sys

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian as autograd_hessian

import backproplab as bp
from backproplab.landscape import flatten, hessian, spectrum, unflatten

from oracle import mlp_loss

CASES = [  # (sizes, activation, output, loss, targets)
    ([3, 4, 1], "tanh", "sigmoid", "binary_cross_entropy", "binary"),
    ([3, 4, 3], "sigmoid", "softmax", "cross_entropy", "classes"),
    ([3, 5, 2], "tanh", "identity", "mse", "values"),
]


def data(targets: str, rows: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    y = {"binary": rng.integers(0, 2, rows), "classes": rng.integers(0, 3, rows),
         "values": rng.normal(size=(rows, 2))}[targets]
    return X, y


def oracle_hessian(net: bp.Network, X: np.ndarray, Y: np.ndarray, activation: str, loss: str) -> np.ndarray:
    names = list(net.params)

    def f(theta):
        parts, start = [], 0
        for name in names:
            shape = net.params[name].shape
            size = int(np.prod(shape))
            parts.append(anp.reshape(theta[start : start + size], shape))
            start += size
        return mlp_loss(parts, X, Y, activation, loss)

    return autograd_hessian(f)(flatten(net))


@pytest.mark.parametrize(("sizes", "activation", "output", "loss", "targets"), CASES)
def test_hessian_matches_autograd(sizes, activation, output, loss, targets):
    net = bp.mlp(sizes, activation=activation, output=output, seed=3)
    X, y = data(targets)
    loss_fn = bp.core.losses.get_loss(loss, output)
    Y = loss_fn.prepare_targets(y, sizes[-1])
    before = net.state_dict(copy=True)
    H = hessian(net, X, y, loss)
    expected = oracle_hessian(net, X, Y, activation, loss)
    assert H.shape == (net.n_params, net.n_params)
    assert np.abs(H - expected).max() < 1e-6
    assert np.abs(expected).max() > 1e-2  # a Hessian of zeros would pass anything
    assert all(np.array_equal(before[k], v) for k, v in net.state_dict().items())  # the network is unchanged


def test_hessian_on_the_runs_axis_is_each_runs_own():
    X, y = data("binary")
    nets = bp.mlp([3, 4, 1], activation="tanh", seed=5, runs=3)
    H = hessian(nets, X, y)
    assert H.shape == (3, 21, 21)  # 3*4 + 4 + 4*1 + 1
    for r in range(3):
        single = bp.mlp([3, 4, 1], activation="tanh", seed=5 + r)
        assert np.abs(H[r] - hessian(single, X, y)).max() < 1e-9


def test_hessian_with_data_per_run():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2, 6, 3)), rng.integers(0, 2, (2, 6))
    nets = bp.mlp([3, 2, 1], seed=0, runs=2)
    H = hessian(nets, X, y)
    for r in range(2):
        assert np.abs(H[r] - hessian(bp.mlp([3, 2, 1], seed=r), X[r], y[r])).max() < 1e-9


def test_hessian_is_symmetric_and_column_blocks_do_not_matter(monkeypatch):
    X, y = data("binary")
    net = bp.mlp([3, 4, 1], seed=0)
    H = hessian(net, X, y)
    np.testing.assert_array_equal(H, H.T)
    mod = sys.modules["backproplab.landscape.hessian"]  # the module (the package exports the function by its name)
    monkeypatch.setattr(mod, "CHUNK_BYTES", 1)  # one column per block, one point per pass
    monkeypatch.setattr(mod, "chunk_size", lambda *a, **k: 1)
    np.testing.assert_allclose(hessian(net, X, y), H, rtol=0, atol=1e-12)


def test_spectrum_counts_and_extremes():
    H = np.diag([-2.0, 0.0, 1e-12, 3.0, 5.0])
    s = spectrum(H)
    assert (s.min, s.max, s.n_negative, s.n_zero, s.n_positive) == (-2.0, 5.0, 1, 2, 2)
    assert s.condition == np.inf
    s = spectrum(np.stack([np.diag([1.0, 4.0]), np.diag([-1.0, 2.0])]))
    np.testing.assert_array_equal(s.min, [1.0, -1.0])
    np.testing.assert_array_equal(s.n_negative, [0, 1])
    np.testing.assert_allclose(s.condition, [4.0, 2.0])


def test_spectrum_of_a_rotated_matrix_is_the_diagonal():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    lam = np.array([-3.0, -1.0, 0.5, 1.0, 2.0, 7.0])
    s = spectrum(Q @ np.diag(lam) @ Q.T)
    np.testing.assert_allclose(s.eigenvalues, lam, atol=1e-12)


def test_unflatten_inverts_flatten():
    net = bp.mlp([3, 4, 2], seed=0, runs=2)
    back = unflatten(net, flatten(net))
    assert all(np.array_equal(back[k], v) for k, v in net.params.items())
