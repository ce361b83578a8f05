"""Dense, the activations and the initialisers: every argument takes effect, hand-worked values, boundaries."""

from __future__ import annotations

import numpy as np
import pytest

import backproplab as bp
from backproplab.core.init import (
    INITIALIZERS,
    get_initializer,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    sklearn_uniform,
    sklearn_uniform_logistic,
)
from backproplab.core.layers import ACTIVATIONS, activation
from backproplab.core.network import LAYERS


@pytest.mark.parametrize(
    ("init", "draw"),
    [
        ("he_normal", lambda g, s, i, o: g.standard_normal(s) * np.sqrt(2.0 / i)),
        ("he_uniform", lambda g, s, i, o: g.uniform(-np.sqrt(6.0 / i), np.sqrt(6.0 / i), s)),
        ("glorot_normal", lambda g, s, i, o: g.standard_normal(s) * np.sqrt(2.0 / (i + o))),
        ("glorot_uniform", lambda g, s, i, o: g.uniform(-np.sqrt(6.0 / (i + o)), np.sqrt(6.0 / (i + o)), s)),
    ],
)
def test_initialisers_are_the_documented_formulas_draw_for_draw(init, draw):
    shape = (2, 5, 3)
    expected = draw(np.random.default_rng(4), shape, 5, 3)
    np.testing.assert_array_equal(INITIALIZERS[init](np.random.default_rng(4), shape, 5, 3), expected)
    assert get_initializer(init) is INITIALIZERS[init]
    layer = bp.Dense(5, 3, init=init, rng=np.random.default_rng(4), runs=2)
    np.testing.assert_array_equal(layer.params["W"], expected)
    np.testing.assert_array_equal(layer.params["b"], np.zeros((2, 1, 3)))
    assert layer.to_config() == {"type": "Dense", "fan_in": 5, "fan_out": 3, "init": init}


def test_initialiser_registry_and_unknown_names():
    assert {"he_normal": he_normal, "he_uniform": he_uniform, "glorot_normal": glorot_normal,
                            "glorot_uniform": glorot_uniform, "sklearn_uniform": sklearn_uniform,
                            "sklearn_uniform_logistic": sklearn_uniform_logistic} == INITIALIZERS
    with pytest.raises(ValueError, match="unknown init 'lecun'; known: glorot_normal, glorot_uniform"):
        get_initializer("lecun")


def test_dense_defaults_he_normal_from_default_rng_zero_in_float64():
    layer = bp.Dense(4, 2)
    np.testing.assert_array_equal(layer.params["W"], np.random.default_rng(0).standard_normal((4, 2)) * np.sqrt(0.5))
    assert layer.params["W"].dtype == layer.grads["b"].dtype == np.float64
    assert layer.params["b"].shape == (1, 2)


def test_dense_with_a_sequence_of_generators_draws_run_r_from_generator_r():
    stacked = bp.Dense(3, 2, rng=[np.random.default_rng(s) for s in (5, 6, 7)], init="glorot_uniform")
    assert stacked.params["W"].shape == (3, 3, 2) and stacked.params["b"].shape == (3, 1, 2)
    for r, s in enumerate((5, 6, 7)):
        alone = bp.Dense(3, 2, rng=np.random.default_rng(s), init="glorot_uniform")
        np.testing.assert_array_equal(stacked.params["W"][r], alone.params["W"])


@pytest.mark.parametrize("runs", [None, 2])
@pytest.mark.parametrize("fan_out", [1, 3])
def test_dense_forward_and_backward_by_hand(runs, fan_out):
    rng = np.random.default_rng(2)
    layer = bp.Dense(4, fan_out, rng=rng, runs=runs)
    layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    W, b = layer.params["W"].copy(), layer.params["b"].copy()
    lead = () if runs is None else (runs,)
    for x in (rng.normal(size=(*lead, 5, 4)), rng.normal(size=(5, 4))):  # per-run or shared input
        z = layer.forward(x)
        np.testing.assert_allclose(z, x @ W + b, rtol=1e-14)
        dout = rng.normal(size=z.shape)
        dx = layer.backward(dout)
        np.testing.assert_allclose(dx, dout @ W.swapaxes(-1, -2), rtol=1e-13)
        np.testing.assert_allclose(layer.grads["W"], x.swapaxes(-1, -2) @ dout, rtol=1e-13)
        np.testing.assert_allclose(layer.grads["b"], dout.sum(axis=-2, keepdims=True), rtol=1e-13)
        np.testing.assert_array_equal(layer.params["W"], W)  # backward never touches the parameters


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: bp.Dense(0, 1), ValueError, "fan_in"),
        (lambda: bp.Dense(1, 0), ValueError, "fan_out"),
        (lambda: bp.Dense(2, 1, runs=0), ValueError, "runs"),
        (lambda: bp.Dense(2, 1, rng=[]), TypeError, "rng"),
        (lambda: bp.Dense(2, 1, rng=7), TypeError, "rng"),
        (lambda: bp.Dense(2, 1, rng=[np.random.default_rng(0), 1]), TypeError, "rng"),
        (lambda: bp.Dense(2, 1, dtype="int32"), ValueError, "dtype"),
        (lambda: bp.Dense(2, 1, init="zeros"), ValueError, "init"),
        (lambda: bp.LeakyReLU(-1e-12), ValueError, "alpha"),
    ],
)
def test_layer_arguments_outside_their_range_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_smallest_layer_arguments_are_accepted():
    layer = bp.Dense(1, 1, runs=1, dtype="float32")
    assert layer.params["W"].shape == (1, 1, 1) and layer.params["W"].dtype == np.float32
    assert bp.LeakyReLU(0.0).alpha == 0.0


@pytest.mark.parametrize(("alpha", "layer"), [(0.01, bp.LeakyReLU()), (0.25, bp.LeakyReLU(0.25))])
def test_leaky_relu_slope_on_both_sides_and_at_zero(alpha, layer):
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(layer.forward(x), [[-2.0 * alpha, 0.0, 3.0]])
    # the slope at the kink is alpha, as documented ("1 if z > 0 else alpha")
    np.testing.assert_allclose(layer.backward(np.array([[10.0, 10.0, 10.0]])), [[10 * alpha, 10 * alpha, 10.0]])
    assert layer.to_config() == {"type": "LeakyReLU", "alpha": alpha}


def test_activation_values_and_derivatives_by_hand():
    x = np.array([[-1.0, 0.0, 2.0]])
    ones = np.ones_like(x)
    s = 1 / (1 + np.exp(-x))
    t = np.tanh(x)
    cases = {
        "sigmoid": (s, s * (1 - s)),
        "tanh": (t, 1 - t**2),
        "relu": ([[0.0, 0.0, 2.0]], [[0.0, 0.0, 1.0]]),  # 0 at the kink
        "identity": (x, ones),
    }
    for name, (value, slope) in cases.items():
        layer = activation(name)
        np.testing.assert_allclose(layer.forward(x), value, rtol=1e-15, err_msg=name)
        np.testing.assert_allclose(layer.backward(3.0 * ones), 3.0 * np.asarray(slope), rtol=1e-15, err_msg=name)
    assert type(activation("leaky_relu")) is bp.LeakyReLU


def test_registries_name_every_layer():
    assert {"sigmoid": bp.Sigmoid, "tanh": bp.Tanh, "relu": bp.ReLU, "leaky_relu": bp.LeakyReLU,
                           "identity": bp.Identity} == ACTIVATIONS
    assert {name: cls for name, cls in LAYERS.items()} == {
        cls.__name__: cls for cls in (bp.Dense, *ACTIVATIONS.values(), bp.Dropout, bp.BatchNorm)}
    with pytest.raises(ValueError, match="activation"):
        activation("swish")


def test_repr_lists_the_constructor_arguments():
    assert repr(bp.Dense(2, 3)) == "Dense(fan_in=2, fan_out=3, init='he_normal')"
    assert repr(bp.LeakyReLU(0.2)) == "LeakyReLU(alpha=0.2)"
    assert repr(bp.Sigmoid()) == "Sigmoid()"


class Affine(bp.Layer):
    """``a = x * w`` with one parameter, written with ``backward`` only (no ``backward_params``)."""

    def __init__(self) -> None:
        super().__init__()
        self.params = {"w": np.array([[2.0, -1.0]])}
        self.grads = {"w": np.zeros((1, 2))}

    def forward(self, x, *, train=True):
        self._x = x
        return x * self.params["w"]

    def backward(self, dout):
        self.grads["w"][...] = (dout * self._x).sum(axis=0, keepdims=True)
        return dout * self.params["w"]


def test_a_layer_with_backward_only_gets_its_gradients_when_training_skips_the_input_gradient():
    # Training calls backward_params on the first layer with parameters; the base class runs backward.
    net = bp.Network([Affine(), bp.Dense(2, 1)], output="identity")
    x, dout = np.array([[1.0, 3.0], [-2.0, 0.5]]), np.array([[1.0], [2.0]])
    net.forward(x, train=True)
    assert net.backward(dout, input_grad=False) is None
    without = {k: g.copy() for k, g in net.grads.items()}
    net.backward(dout)
    for name, g in net.grads.items():
        np.testing.assert_array_equal(without[name], g, err_msg=name)
    assert np.abs(without["0.w"]).sum() > 0
