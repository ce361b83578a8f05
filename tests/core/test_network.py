"""Whole networks: gradients against the autograd oracle, naming, prediction, runs-axis seeding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backproplab as bp
from backproplab.core.layers import ACTIVATIONS

from oracle import mlp_gradients, mlp_loss

PAIRINGS = [("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"), ("identity", "mse")]


def make_data(output: str, n_in: int, n_out: int, batch: int, rng: np.random.Generator, runs: int | None = None):
    lead = () if runs is None else (runs,)
    X = rng.normal(size=(*lead, batch, n_in))
    if output == "sigmoid":
        y = rng.integers(0, 2, (*lead, batch, n_out)).astype(float)
    elif output == "softmax":
        y = np.eye(n_out)[rng.integers(0, n_out, (*lead, batch))]
    else:
        y = rng.normal(size=(*lead, batch, n_out))
    return X, y


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("output", "loss"), PAIRINGS)
@settings(max_examples=8, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    n_in=st.integers(1, 4),
    batch=st.integers(1, 6),
    runs=st.one_of(st.none(), st.integers(1, 3)),
    per_run_inputs=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_network_gradients_match_autograd(activation, output, loss, hidden, n_in, batch, runs, per_run_inputs, seed):
    rng = np.random.default_rng(seed)
    n_out = 3 if output == "softmax" else 2
    net = bp.mlp([n_in, *hidden, n_out], activation=activation, output=output, seed=seed, runs=runs)
    for name, p in net.params.items():  # non-zero biases so their gradients matter too
        if name.endswith(".b"):
            p[...] = rng.normal(scale=0.5, size=p.shape)
    X, y = make_data(output, n_in, n_out, batch, rng, runs if (runs and per_run_inputs) else None)

    value, grads = bp.loss_and_gradients(net, X, y)
    weights = list(net.params.values())
    expected = mlp_gradients(weights, X, y, activation, loss)

    assert list(grads) == list(net.params)
    # atol: near-zero losses are where the oracle's textbook log-softmax loses its last digits.
    np.testing.assert_allclose(np.sum(value), mlp_loss(weights, X, y, activation, loss), rtol=1e-12, atol=1e-15)
    for (name, g), ref in zip(grads.items(), expected, strict=True):
        assert g.shape == net.params[name].shape
        np.testing.assert_allclose(g, ref, rtol=1e-9, atol=1e-13, err_msg=name)


def test_parameters_are_named_in_layer_order():
    net = bp.mlp([2, 4, 3, 1])
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert list(net.grads) == list(net.params)
    assert net.params["2.W"].shape == (4, 3)
    assert net.n_params == 2 * 4 + 4 + 4 * 3 + 3 + 3 * 1 + 1


def test_params_are_the_networks_own_arrays():
    net = bp.mlp([2, 3, 1])
    net.params["0.W"][0, 0] = 42.0
    assert net.layers[0].params["W"][0, 0] == 42.0


def test_run_r_of_a_stack_equals_the_single_network_with_seed_plus_r():
    stacked = bp.mlp([2, 5, 1], seed=10, runs=4)
    for r in range(4):
        single = bp.mlp([2, 5, 1], seed=10 + r)
        for name, p in single.params.items():
            np.testing.assert_array_equal(stacked.params[name][r], p)


def test_explicit_seed_list_builds_one_run_per_seed():
    net = bp.mlp([2, 3, 1], seed=[7, 3])
    assert net.runs == 2
    np.testing.assert_array_equal(net.params["0.W"][1], bp.mlp([2, 3, 1], seed=3).params["0.W"])


@pytest.mark.parametrize("init", ["he_normal", "he_uniform", "glorot_normal", "glorot_uniform"])
def test_initialisers_have_the_documented_spread(init):
    net = bp.mlp([400, 300, 1], init=init, seed=0)
    W = net.params["0.W"]
    expected_std = np.sqrt(2 / 400) if init.startswith("he") else np.sqrt(2 / 700)
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    np.testing.assert_array_equal(net.params["0.b"], 0)
    if init.endswith("uniform"):
        assert np.abs(W).max() <= np.sqrt(3) * expected_std


def test_predict_gives_labels_and_probabilities():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    binary = bp.mlp([2, 3, 1], seed=0)
    p = binary.predict_proba(X)
    assert p.shape == (2, 1) and ((p > 0) & (p < 1)).all()
    np.testing.assert_array_equal(binary.predict(X), (p[:, 0] >= 0.5).astype(int))

    multi = bp.mlp([2, 3, 4], output="softmax", seed=0, runs=2)
    p = multi.predict_proba(X)
    assert p.shape == (2, 2, 4)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(multi.predict(X), p.argmax(axis=-1))

    regression = bp.mlp([2, 3, 2], output="identity", seed=0)
    np.testing.assert_array_equal(regression.predict(X), regression.forward(X))


def test_float32_networks_stay_float32():
    net = bp.mlp([2, 4, 1], dtype="float32")
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.predict_proba(np.ones((3, 2))).dtype == np.float32
    _, grads = bp.loss_and_gradients(net, np.ones((3, 2)), [0, 1, 1])
    assert all(g.dtype == np.float32 for g in grads.values())


def test_network_can_be_composed_from_layers():
    rng = np.random.default_rng(0)
    net = bp.Network([bp.Dense(2, 3, rng=rng), bp.Tanh(), bp.Dense(3, 2, rng=rng)], output="softmax")
    assert (net.n_inputs, net.n_outputs, net.runs) == (2, 2, None)
    with pytest.raises(ValueError, match="do not chain: a Dense with 3 outputs feeds one with 4 inputs"):
        bp.Network([bp.Dense(2, 3), bp.Dense(4, 1)])


def test_repr_shows_the_architecture():
    text = repr(bp.mlp([2, 8, 1], runs=3))
    assert "Dense(fan_in=2, fan_out=8" in text and "Sigmoid()" in text and "runs=3" in text


# --- the state dict: the one door to a network's state -------------------------------------


def test_state_dict_names_parameters_then_buffers_and_holds_the_networks_own_arrays():
    net = bp.mlp([3, 4, 2], output="softmax", batch_norm=True, runs=2)
    state = net.state_dict()
    assert list(state) == ["0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b", "1.running_mean", "1.running_var"]
    assert all(state[name] is p for name, p in net.params.items())
    assert all(state[name] is b for name, b in net.buffers.items())
    snapshot = net.state_dict(copy=True)
    assert all(snapshot[name] is not a and np.array_equal(snapshot[name], a) for name, a in state.items())


def test_load_state_dict_writes_into_the_same_arrays_and_round_trips():
    net, other = bp.mlp([2, 5, 1], batch_norm=True, seed=1), bp.mlp([2, 5, 1], batch_norm=True, seed=2)
    other.buffers["1.running_var"][...] = 3.0
    before = net.state_dict()
    net.load_state_dict(other.state_dict())
    after = net.state_dict()
    assert all(after[name] is before[name] for name in before)  # identity kept
    for name, value in other.state_dict().items():
        assert np.array_equal(after[name], value) and after[name] is not value


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda s: s.pop("1.running_mean"), r"missing \['1.running_mean'\]"),
        (lambda s: s.update(extra=np.zeros(1)), r"unexpected \['extra'\]"),
        (lambda s: s.update({"3.W": np.zeros((4, 1))}), r"state '3.W' has shape \(4, 1\), expected \(5, 1\)"),
    ],
)
def test_load_state_dict_refuses_other_names_or_shapes_before_writing_anything(change, match):
    net = bp.mlp([2, 5, 1], batch_norm=True, seed=1)
    state = {name: a + 1.0 for name, a in net.state_dict().items()}
    change(state)
    before = net.state_dict(copy=True)
    with pytest.raises(ValueError, match=match):
        net.load_state_dict(state)
    assert all(np.array_equal(a, before[name]) for name, a in net.state_dict().items())


@pytest.mark.parametrize("runs", [None, 3])
def test_from_config_rebuilds_the_architecture_and_a_state_dict_makes_it_the_same_network(runs):
    net = bp.mlp([3, 6, 4, 2], activation="leaky_relu", output="softmax", batch_norm=True, dropout=0.1, runs=runs)
    copy = bp.Network.from_config(net.to_config())
    assert copy.to_config() == net.to_config() and repr(copy) == repr(net)
    copy.load_state_dict(net.state_dict())
    X = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(copy.predict_proba(X), net.predict_proba(X))
