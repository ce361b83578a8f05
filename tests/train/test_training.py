"""fit: determinism, runs-axis equivalence, the report's XOR success rate, divergence, callbacks."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp

X_LOGIC = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([0, 1, 1, 0])


def moons_like(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_same_seed_gives_bit_identical_weights_and_history():
    X, y = moons_like()
    results = []
    for _ in range(2):
        net = bp.mlp([2, 6, 1], seed=3)
        history = bp.fit(net, X, y, epochs=30, batch_size=8, shuffle_seed=5, progress=False)
        results.append((net.copy_params(), history.loss, history.accuracy))
    (p1, l1, a1), (p2, l2, a2) = results
    for name in p1:
        np.testing.assert_array_equal(p1[name], p2[name])
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(a1, a2)


def test_shuffle_seed_changes_the_trajectory():
    X, y = moons_like()
    losses = []
    for seed in (1, 2):
        net = bp.mlp([2, 6, 1], seed=3)
        losses.append(bp.fit(net, X, y, epochs=5, batch_size=8, shuffle_seed=seed, progress=False).loss)
    assert not np.array_equal(losses[0], losses[1])


@pytest.mark.parametrize(("activation", "output", "make_y"), [
    ("sigmoid", "sigmoid", lambda X: (X[:, 0] > 0).astype(int)),
    ("relu", "softmax", lambda X: (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)),
    ("tanh", "identity", lambda X: np.sin(X)),
])
def test_stacked_runs_equal_separate_runs(activation, output, make_y):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = make_y(X)
    k = {"sigmoid": 1, "softmax": 3, "identity": 2}[output]
    kwargs = dict(epochs=25, batch_size=7, seed=11, progress=False, optimizer=None)
    stacked = bp.mlp([2, 5, 4, k], activation=activation, output=output, seed=100, runs=4)
    h_stacked = bp.fit(stacked, X, y, **kwargs)
    assert h_stacked.loss.shape == (25, 4)
    for r in range(4):
        single = bp.mlp([2, 5, 4, k], activation=activation, output=output, seed=100 + r)
        h_single = bp.fit(single, X, y, **kwargs)
        np.testing.assert_allclose(h_stacked.loss[:, r], h_single.loss, rtol=1e-12, atol=1e-15)
        for name, p in single.params.items():
            np.testing.assert_allclose(stacked.params[name][r], p, rtol=1e-12, atol=1e-12)


def test_clipping_keeps_runs_independent():
    X, y = moons_like()
    opt = dict(epochs=10, batch_size=10, progress=False)
    stacked = bp.mlp([2, 4, 1], seed=0, runs=3)
    bp.fit(stacked, X, y, optimizer=bp.SGD(2.0, clip_norm=0.05), **opt)
    single = bp.mlp([2, 4, 1], seed=2)
    bp.fit(single, X, y, optimizer=bp.SGD(2.0, clip_norm=0.05), **opt)
    np.testing.assert_allclose(stacked.params["0.W"][2], single.params["0.W"], rtol=1e-12)


def test_report_xor_setup_learns_in_at_least_85_percent_of_1000_seeds():
    net = bp.mlp([2, 8, 1], activation="sigmoid", output="sigmoid", init="he_normal", seed=0, runs=1000)
    history = bp.fit(net, X_LOGIC, Y_XOR, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4, progress=False)
    learned = (net.predict(X_LOGIC) == Y_XOR).all(axis=1)
    assert learned.shape == (1000,)
    assert learned.mean() >= 0.85
    assert history.loss.shape == (2000, 1000)
    assert np.median(history.loss[-1]) < np.median(history.loss[0])


def test_history_records_loss_and_accuracy_per_epoch():
    net = bp.mlp([2, 8, 1], seed=0)
    history = bp.fit(net, X_LOGIC, [0, 0, 0, 1], epochs=50, batch_size=4, progress=False)
    assert history.epochs == 50 and history.keys() == ["loss", "accuracy"]
    assert history.loss.shape == history.accuracy.shape == (50,)
    assert set(np.unique(history.accuracy)) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    # With one full batch, the epoch loss is the loss before that epoch's step.
    fresh = bp.mlp([2, 8, 1], seed=0)
    assert history.loss[0] == pytest.approx(bp.loss_and_gradients(fresh, X_LOGIC, [0, 0, 0, 1])[0], rel=1e-14)


def test_regression_history_has_no_accuracy():
    X, _ = moons_like()
    history = bp.fit(bp.mlp([2, 3, 1], output="identity"), X, X[:, 0], epochs=3, progress=False)
    assert history.accuracy is None and "accuracy" not in history


def test_divergence_stops_with_epoch_and_keeps_finite_parameters():
    X, y = moons_like()
    X = X * 1e3
    net = bp.mlp([2, 4, 1], output="sigmoid", activation="relu", seed=0)
    with pytest.raises(bp.DivergenceError, match=r"epoch \d+") as info:
        bp.fit(net, X, y, optimizer=bp.SGD(1e150), epochs=50, batch_size=10, progress=False)
    assert info.value.epoch >= 1
    assert all(np.isfinite(p).all() for p in net.params.values())


def test_divergence_names_the_run():
    # With a runs axis a diverged run is frozen and flagged instead of stopping the others
    # (issue 7; tests/train/test_resume.py checks the survivors train on unchanged).
    X, y = moons_like()
    net = bp.mlp([2, 4, 1], activation="relu", seed=0, runs=3)
    net.params["0.W"][1] *= 1e200  # only run 1 explodes in the first epoch
    start = net.copy_params()
    with pytest.warns(RuntimeWarning, match=r"run 1 in epoch 1"):
        history = bp.fit(net, X * 1e150, y, optimizer=bp.SGD(1e100), epochs=5, batch_size=40, progress=False)
    assert history.diverged[1] == 1
    assert np.isnan(history.loss[:, 1]).all()
    assert all(np.array_equal(net.params[k][1], start[k][1]) for k in start)


class StopAfter(bp.Callback):
    def __init__(self, n):
        self.n, self.seen = n, []

    def on_fit_begin(self, state):
        self.seen.append("begin")

    def on_epoch_end(self, state):
        self.seen.append(state.epoch)
        assert set(state.net.grads) == set(state.net.params)
        if state.epoch == self.n:
            state.stop = True

    def on_fit_end(self, state):
        self.seen.append("end")


def test_callbacks_see_every_epoch_and_can_stop():
    cb = StopAfter(3)
    history = bp.fit(bp.mlp([2, 3, 1]), X_LOGIC, Y_XOR, epochs=10, batch_size=4, callbacks=[cb], progress=False)
    assert cb.seen == ["begin", 1, 2, 3, "end"]
    assert history.epochs == 3


def test_progress_bar_is_silent_when_stderr_is_not_a_terminal(capsys):
    bp.fit(bp.mlp([2, 3, 1]), X_LOGIC, Y_XOR, epochs=20, batch_size=4, progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_float32_training_keeps_float32_parameters():
    net = bp.mlp([2, 8, 1], dtype="float32", runs=5)
    history = bp.fit(net, X_LOGIC, Y_XOR, epochs=20, batch_size=4, progress=False)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert np.isfinite(history.loss).all()
