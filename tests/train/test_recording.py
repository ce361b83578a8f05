"""The Recorder: frames that tell the truth about a run, and cost the run nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab import data
from backproplab.errors import ModelFileError
from backproplab.train.recording import (
    HEALTH_EXPLODING,
    HEALTH_OK,
    HEALTH_VANISHING,
    Recorder,
    Recording,
    health_flags,
)

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([0, 1, 1, 0])


def moons(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = data.moons(n_samples=n, seed=seed)
    return X, y


def record(net, X, y, *, epochs=50, batch_size=4, **kwargs) -> tuple[Recording, bp.History]:
    rec = Recorder(X, y, **kwargs)
    history = bp.fit(net, X, y, epochs=epochs, batch_size=batch_size, progress=False, callbacks=[rec])
    return rec.recording, history


def test_recording_does_not_change_training():
    X, y = moons()
    plain = bp.mlp([2, 6, 1], activation="tanh", seed=3)
    h_plain = bp.fit(plain, X, y, epochs=30, batch_size=16, progress=False)
    recorded = bp.mlp([2, 6, 1], activation="tanh", seed=3)
    _, h_rec = record(recorded, X, y, epochs=30, batch_size=16, every=1)
    for name, p in plain.params.items():
        assert np.array_equal(p, recorded.params[name]), name
    assert np.array_equal(h_plain.loss, h_rec.loss)


@given(epochs=st.integers(1, 400), max_frames=st.integers(1, 50))
@settings(max_examples=25, deadline=None)
def test_frame_count_is_bounded_and_ends_at_the_last_epoch(epochs, max_frames):
    net = bp.mlp([2, 2, 1], seed=0)
    rec, _ = record(net, X_XOR, Y_XOR, epochs=epochs, max_frames=max_frames, grid=4)
    assert rec.n_frames <= max_frames + 1  # frame 0 plus at most max_frames
    assert rec.epochs[0] == 0 and rec.epochs[-1] == epochs
    assert np.all(np.diff(rec.epochs) > 0)
    assert rec.arrays["loss_history"].shape == (epochs,)


def test_last_frame_holds_the_trained_parameters_and_the_first_the_initial_ones():
    net = bp.mlp([2, 5, 3, 1], activation="relu", seed=1)
    initial = net.copy_params()
    rec, _ = record(net, X_XOR, Y_XOR, epochs=40, every=7)
    assert list(rec.epochs) == [0, 7, 14, 21, 28, 35, 40]
    for name, p in net.params.items():
        assert np.array_equal(rec.arrays[f"p:{name}"][-1], p)
        assert np.array_equal(rec.arrays[f"p:{name}"][0], initial[name])


def test_runs_axis_records_the_chosen_run_as_if_trained_alone():
    X, y = moons(40)
    stacked = bp.mlp([2, 4, 1], activation="tanh", seed=10, runs=3)
    rec_stacked, _ = record(stacked, X, y, epochs=20, batch_size=8, run=2, every=5)
    alone = bp.mlp([2, 4, 1], activation="tanh", seed=12)
    rec_alone, _ = record(alone, X, y, epochs=20, batch_size=8, every=5)
    assert rec_stacked.meta["run"] == 2 and rec_stacked.meta["runs"] == 3
    for key, value in rec_alone.arrays.items():
        np.testing.assert_allclose(rec_stacked.arrays[key], value, rtol=1e-12, atol=1e-15, err_msg=key)


def test_gradient_norm_is_the_full_data_gradient_at_the_frame():
    X, y = moons(50)
    net = bp.mlp([2, 8, 1], activation="tanh", seed=0)
    rec, _ = record(net, X, y, epochs=10, batch_size=10, every=5)
    _, grads = bp.loss_and_gradients(net, X, y, train=False)
    expected = [math.sqrt(np.sum(grads[f"{i}.W"] ** 2) + np.sum(grads[f"{i}.b"] ** 2)) for i in (0, 2)]
    np.testing.assert_allclose(rec.arrays["grad_norm"][-1], expected, rtol=1e-12)
    loss, _ = bp.loss_and_gradients(net, X, y, train=False)
    assert rec.arrays["loss"][-1] == pytest.approx(loss, rel=1e-12)


def test_probe_deltas_are_per_sample_gradients():
    """Backprop's identity dL/dW = a_prev^T delta / P links the recorded deltas to the engine's gradients."""
    net = bp.mlp([2, 3, 3, 1], activation="sigmoid", seed=4)
    rec, _ = record(net, X_XOR, Y_XOR, epochs=25, every=25)
    f = -1
    _, grads = bp.loss_and_gradients(net, X_XOR, Y_XOR, train=False)
    a_prev = X_XOR
    for j, i in enumerate(rec.meta["dense"]):
        delta, z, a = rec.arrays[f"delta:{j}"][f], rec.arrays[f"z:{j}"][f], rec.arrays[f"a:{j}"][f]
        np.testing.assert_allclose(a_prev.T @ delta / len(X_XOR), grads[f"{i}.W"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(a, 1 / (1 + np.exp(-z)), rtol=1e-12)  # sigmoid everywhere, output included
        a_prev = a
    p = rec.arrays[f"a:{len(rec.meta['dense']) - 1}"][f][:, 0]
    np.testing.assert_allclose(rec.arrays["delta:2"][f][:, 0], p - Y_XOR, rtol=1e-12)  # the fused delta p - y
    np.testing.assert_allclose(p, net.predict_proba(X_XOR)[:, 0], rtol=1e-12)


def test_update_ratio_is_one_epochs_change_relative_to_the_weights():
    X, y = moons(40)
    net = bp.mlp([2, 4, 1], seed=2)
    rec, _ = record(net, X, y, epochs=12, batch_size=8, every=4)
    every_epoch, _ = record(bp.mlp([2, 4, 1], seed=2), X, y, epochs=12, batch_size=8, every=1)
    W = every_epoch.arrays["p:0.W"]  # frames at epochs 0..12
    for f, e in enumerate(rec.epochs):
        if e == 0:
            assert np.all(np.isnan(rec.arrays["update_ratio"][f]))
            continue
        expected = np.linalg.norm(W[e] - W[e - 1]) / np.linalg.norm(W[e - 1])
        assert rec.arrays["update_ratio"][f][0] == pytest.approx(expected, rel=1e-12)


def test_saturated_sigmoids_and_dead_relus_are_counted():
    net = bp.mlp([2, 6, 1], activation="sigmoid", seed=0)
    net.layers[0].params["W"] *= 500  # drives every pre-activation far from 0, except on the input (0, 0)
    net.layers[0].params["b"][...] = 300.0
    rec, _ = record(net, X_XOR, Y_XOR, epochs=1)
    assert rec.arrays["health"][0][0] == 1.0
    relu = bp.mlp([2, 6, 1], activation="relu", seed=0)
    relu.layers[0].params["b"][:, :3] = -1e3  # three units silent on every input,
    relu.layers[0].params["b"][:, 3:] = 1e3  # three active on every input
    rec, _ = record(relu, X_XOR, Y_XOR, epochs=1)
    assert rec.arrays["health"][0][0] == pytest.approx(0.5)
    assert math.isnan(rec.arrays["health"][0][1])  # the output layer has no hidden activation to judge


def test_health_flags():
    g = np.array([[1e-7, 1e-2, 1e-1], [0.1, 0.2, 0.3], [1e-3, 1e-2, 5e3]])
    ratio = np.array([[1e-3, 1e-3, 1e-3], [1e-3, 2.0, 1e-3], [1e-3, 1e-3, 1e-3]])
    flags = health_flags(g, ratio)
    assert flags[0].tolist() == [HEALTH_VANISHING, HEALTH_OK, HEALTH_OK]
    assert flags[1].tolist() == [HEALTH_OK, HEALTH_EXPLODING, HEALTH_OK]
    assert flags[2].tolist() == [HEALTH_VANISHING, HEALTH_VANISHING, HEALTH_EXPLODING]


def test_grid_covers_the_input_square_with_the_networks_output():
    net = bp.mlp([2, 4, 1], seed=0)
    rec, _ = record(net, X_XOR, Y_XOR, epochs=5, grid=7, extent=(-1.0, 2.0, -0.5, 1.5))
    grid = rec.arrays["grid"][-1]
    assert grid.shape == (7, 7, 1)
    # Row r is y = y_min + r * step (bottom first), column c is x = x_min + c * step.
    corner = net.predict_proba(np.array([[2.0, -0.5]]))[0, 0]
    assert grid[0, -1, 0] == pytest.approx(corner, rel=1e-6)
    assert grid[-1, 0, 0] == pytest.approx(net.predict_proba(np.array([[-1.0, 1.5]]))[0, 0], rel=1e-6)


def test_no_grid_for_inputs_that_are_not_2d():
    X, y = data.parity(3)
    rec, _ = record(bp.mlp([3, 4, 1], seed=0), X, y, epochs=3)
    assert "grid" not in rec.arrays and rec.meta["extent"] is None


def test_save_and_load_round_trip(tmp_path):
    rec, _ = record(bp.mlp([2, 3, 1], seed=0), X_XOR, Y_XOR, epochs=8)
    path = rec.save(tmp_path / "rec.npz")
    back = Recording.load(path)
    assert back.meta == rec.meta
    assert np.array_equal(back.epochs, rec.epochs)
    assert back.arrays.keys() == rec.arrays.keys()
    for key, value in rec.arrays.items():
        assert np.array_equal(back.arrays[key], value, equal_nan=True), key


def test_load_refuses_other_files(tmp_path):
    model = bp.mlp([2, 3, 1]).save(tmp_path / "model.npz")
    with pytest.raises(ModelFileError, match="not a backproplab recording"):
        Recording.load(model)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match=r"junk\.npz"):
        Recording.load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError):
        Recording.load(tmp_path / "missing.npz")


def test_early_stop_by_another_callback_ends_with_a_frame():
    class StopAt(bp.Callback):
        def on_epoch_end(self, state):
            state.stop = state.epoch == 13

    rec = Recorder(X_XOR, Y_XOR, every=5)
    net = bp.mlp([2, 3, 1], seed=0)
    bp.fit(net, X_XOR, Y_XOR, epochs=100, batch_size=4, progress=False, callbacks=[StopAt(), rec])
    assert rec.recording.epochs[-1] == 13
    assert np.array_equal(rec.recording.arrays["p:0.W"][-1], net.params["0.W"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_frames": 0}, ValueError, "max_frames"),
        ({"every": -2}, ValueError, "every"),
        ({"run": -1}, ValueError, "run"),
        ({"run": 1.5}, TypeError, "run"),
        ({"extent": (0, 1, 2)}, ValueError, "extent"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        Recorder(X_XOR, Y_XOR, **kwargs)


def test_run_beyond_the_networks_runs_fails_before_training():
    net = bp.mlp([2, 3, 1], seed=0, runs=2)
    before = net.copy_params()
    with pytest.raises(ValueError, match="run must be < the network's 2 runs, got 2"):
        bp.fit(net, X_XOR, Y_XOR, epochs=5, progress=False, callbacks=[Recorder(X_XOR, Y_XOR, run=2)])
    assert all(np.array_equal(before[k], v) for k, v in net.params.items())


def test_single_run_copy_is_independent():
    net = bp.mlp([2, 3, 1], seed=0, runs=2)
    copy = net.single_run_copy(1)
    assert copy.runs is None
    assert np.array_equal(copy.params["0.W"], net.params["0.W"][1])
    copy.params["0.W"][...] = 0
    assert np.any(net.params["0.W"][1] != 0)


def test_normalisation_and_dropout_layers_are_not_mistaken_for_activations():
    from backproplab.core.layers import Dense, LeakyReLU
    from backproplab.core.regularization import BatchNorm, Dropout

    X, y = data.moons(n_samples=40)
    rng = np.random.default_rng(0)
    net = bp.Network([Dense(2, 6, rng=rng), BatchNorm(6), LeakyReLU(), Dropout(0.2), Dense(6, 1, rng=rng)])
    plain = bp.Network([Dense(2, 6, rng=np.random.default_rng(0)), BatchNorm(6), LeakyReLU(), Dropout(0.2),
                        Dense(6, 1, rng=np.random.default_rng(0))])
    plain.set_params(net.copy_params())
    rec, _ = record(net, X, y, epochs=6, batch_size=8)
    bp.fit(plain, X, y, epochs=6, batch_size=8, progress=False)
    assert rec.meta["activations"] == ["leaky_relu", "output:sigmoid"]
    # Frames use the running statistics of their epoch: the last frame predicts as the trained network does.
    np.testing.assert_allclose(rec.arrays["a:1"][-1][:, 0], net.predict_proba(rec.arrays["probe_x"])[:, 0], rtol=1e-12)
    for name, p in plain.params.items():  # dropout draws and batch statistics untouched by the recorder
        assert np.array_equal(p, net.params[name]), name
