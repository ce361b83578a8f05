"""Each layer's backward pass against central differences, on random shapes, with and without runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.core.layers import ACTIVATIONS, Dense, Layer, LeakyReLU, activation

from numeric import assert_matches_numeric, numerical_gradient

shapes = st.tuples(
    st.one_of(st.none(), st.integers(1, 3)),  # runs
    st.integers(1, 5),  # batch
    st.integers(1, 4),  # fan_in
    st.integers(1, 4),  # fan_out
)


def away_from_kink(x: np.ndarray) -> np.ndarray:
    """Push values off 0, where ReLU-like derivatives jump and central differences mislead."""
    return np.where(np.abs(x) < 0.1, x + np.sign(x + 1e-12) * 0.2, x)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_dense_gradients_match_central_differences(shape, seed):
    runs, batch, fan_in, fan_out = shape
    rng = np.random.default_rng(seed)
    layer = Dense(fan_in, fan_out, rng=rng, runs=runs)
    layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    x = rng.normal(size=(batch, fan_in) if runs is None else (runs, batch, fan_in))
    dout = rng.normal(size=(*x.shape[:-1], fan_out))

    layer.forward(x)
    dx = layer.backward(dout)

    def f():
        return layer.forward(x)

    assert_matches_numeric(dx, numerical_gradient(f, x, dout))
    for key in ("W", "b"):
        assert_matches_numeric(layer.grads[key], numerical_gradient(f, layer.params[key], dout))


@settings(max_examples=20, deadline=None)
@given(runs=st.integers(1, 3), batch=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_dense_shared_input_gives_each_run_its_own_weight_gradient(runs, batch, seed):
    """x (B, D_in) shared by R runs: dW[r] must be x.T @ dout[r], not a sum over runs."""
    rng = np.random.default_rng(seed)
    layer = Dense(3, 2, rng=rng, runs=runs)
    x = rng.normal(size=(batch, 3))
    dout = rng.normal(size=(runs, batch, 2))
    layer.forward(x)
    layer.backward(dout)
    assert layer.grads["W"].shape == (runs, 3, 2)
    for r in range(runs):
        np.testing.assert_allclose(layer.grads["W"][r], x.T @ dout[r], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=3), seed=st.integers(0, 2**16))
def test_activation_gradients_match_central_differences(name, shape, seed):
    rng = np.random.default_rng(seed)
    layer = activation(name)
    x = away_from_kink(rng.normal(scale=2.0, size=shape))
    dout = rng.normal(size=shape)
    layer.forward(x)
    dx = layer.backward(dout)
    assert dx.shape == x.shape
    assert_matches_numeric(dx, numerical_gradient(lambda: layer.forward(x), x, dout))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_forward_matches_definition(name):
    z = np.linspace(-5, 5, 41)
    expected = {
        "sigmoid": 1 / (1 + np.exp(-z)),
        "tanh": np.tanh(z),
        "relu": np.maximum(z, 0),
        "leaky_relu": np.where(z > 0, z, 0.01 * z),
        "identity": z,
    }[name]
    np.testing.assert_allclose(activation(name).forward(z), expected, rtol=1e-14, atol=1e-15)


def test_sigmoid_is_finite_and_silent_for_huge_inputs():
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
        a = activation("sigmoid").forward(z)
    np.testing.assert_array_equal(a, [0.0, 0.0, 0.5, 1.0, 1.0])


def test_leaky_relu_slope_is_configurable():
    layer = LeakyReLU(alpha=0.2)
    np.testing.assert_allclose(layer.forward(np.array([-1.0, 2.0])), [-0.2, 2.0])
    np.testing.assert_allclose(layer.backward(np.array([1.0, 1.0])), [0.2, 1.0])


def test_backward_overwrites_gradients_instead_of_accumulating():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=rng)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    layer.backward(dout)
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(x)
    layer.backward(dout)
    for key in first:
        np.testing.assert_array_equal(layer.grads[key], first[key])


@pytest.mark.parametrize("runs", [None, 3])
def test_params_and_grads_share_keys_shapes_and_dtype(runs):
    layer = Dense(4, 5, runs=runs, dtype="float32")
    assert layer.params.keys() == layer.grads.keys() == {"W", "b"}
    lead = () if runs is None else (runs,)
    assert layer.params["W"].shape == (*lead, 4, 5)
    assert layer.params["b"].shape == (*lead, 1, 5)
    for key in layer.params:
        assert layer.grads[key].shape == layer.params[key].shape
        assert layer.params[key].dtype == np.float32
    np.testing.assert_array_equal(layer.params["b"], 0)


def test_parameter_free_layers_have_empty_dicts():
    for name in ACTIVATIONS:
        layer = activation(name)
        assert isinstance(layer, Layer)
        assert layer.params == {} and layer.grads == {}


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*relu.*sigmoid"):
        activation("swish")


def test_leaky_relu_refuses_negative_slope():
    with pytest.raises(ValueError, match="alpha"):
        LeakyReLU(alpha=-0.1)
