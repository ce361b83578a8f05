"""Losses: values against their definitions, gradients against autograd and central differences,
stability for logits of any size, and target validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.core.layers import softmax
from backproplab.core.losses import LOSSES, BinaryCrossEntropy, CrossEntropy, MeanSquaredError, get_loss

from numeric import assert_matches_numeric, numerical_gradient
from oracle import LOSSES as ORACLE


def make_targets(name: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Valid prepared targets of ``shape`` for the loss ``name``."""
    if name == "binary_cross_entropy":
        return rng.integers(0, 2, shape).astype(float)
    if name == "cross_entropy":
        return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return rng.normal(size=shape)


loss_shapes = st.tuples(st.one_of(st.none(), st.integers(1, 3)), st.integers(1, 6), st.integers(2, 4))


@pytest.mark.parametrize("name", sorted(LOSSES))
@settings(max_examples=25, deadline=None)
@given(shape=loss_shapes, seed=st.integers(0, 2**16))
def test_loss_value_and_gradient_match_autograd(name, shape, seed):
    runs, batch, k = shape
    full = (batch, k) if runs is None else (runs, batch, k)
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=full)
    y = make_targets(name, full, rng)
    loss = LOSSES[name]()

    value = loss.value(z, y)
    # atol: the oracle's textbook log-softmax loses digits on losses near 1e-6; ours does not.
    np.testing.assert_allclose(value, ORACLE[name](z, y), rtol=1e-12, atol=1e-15)
    assert np.shape(value) == (() if runs is None else (runs,))
    expected = grad(lambda zz: np.sum(ORACLE[name](zz, y)))(z)
    np.testing.assert_allclose(loss.gradient(z, y), expected, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradient_matches_central_differences(name):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 5, 3))
    y = make_targets(name, z.shape, rng)
    loss = LOSSES[name]()
    dout = np.ones(2)  # the two runs' losses summed
    assert_matches_numeric(loss.gradient(z, y), numerical_gradient(lambda: loss.value(z, y), z, dout))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_finite_and_silent_for_huge_logits(name):
    z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 800.0], [-800.0, 0.0]])
    y = make_targets(name, z.shape, np.random.default_rng(0))
    loss = LOSSES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
            value = loss.value(z, y)
            g = loss.gradient(z, y)
            p = loss.activate(z)
    assert np.isfinite(value) and np.isfinite(g).all() and np.isfinite(p).all()


def test_bce_at_huge_logits_is_exact():
    loss = BinaryCrossEntropy()
    z = np.array([[1e4], [-1e4]])
    assert loss.value(z, np.array([[1.0], [0.0]])) == 0.0  # confident and right
    assert loss.value(z, np.array([[0.0], [1.0]])) == pytest.approx(1e4)  # confident and wrong: |z|


def test_cross_entropy_at_huge_logits_is_exact():
    loss = CrossEntropy()
    z = np.array([[1e4, -1e4, 0.0]])
    assert loss.value(z, np.array([[1.0, 0.0, 0.0]])) == 0.0
    assert loss.value(z, np.array([[0.0, 1.0, 0.0]])) == pytest.approx(2e4)


def test_cross_entropy_accepts_labels_and_one_hot_alike():
    loss = CrossEntropy()
    labels = np.array([2, 0, 1, 2])
    one_hot = np.eye(3)[labels]
    np.testing.assert_array_equal(loss.prepare_targets(labels, 3), one_hot)
    np.testing.assert_array_equal(loss.prepare_targets(one_hot, 3), one_hot)


def test_softmax_rows_sum_to_one():
    p = softmax(np.random.default_rng(0).normal(scale=50, size=(4, 6)))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)


@pytest.mark.parametrize(
    ("loss", "y", "n_outputs", "message"),
    [
        (BinaryCrossEntropy(), [0, 1, 2], 1, r"labels in \{0, 1\}.*\[2\.0\]"),
        (BinaryCrossEntropy(), [0.0, 0.5], 1, r"labels in \{0, 1\}.*\[0\.5\]"),
        (CrossEntropy(), [0, 3], 3, r"integer labels in 0\.\.2.*\[3\.0\]"),
        (CrossEntropy(), [0, -1], 3, r"integer labels in 0\.\.2.*\[-1\.0\]"),
        (CrossEntropy(), [0.5, 1], 3, r"integer labels"),
        (MeanSquaredError(), [[1.0, 2.0]], 3, r"2 columns but the network has 3 outputs"),
        (BinaryCrossEntropy(), [0, np.nan], 1, r"NaN or infinity"),
    ],
)
def test_bad_targets_are_refused_with_a_message(loss, y, n_outputs, message):
    with pytest.raises(ValueError, match=message):
        loss.prepare_targets(y, n_outputs)


def test_get_loss_checks_pairing_and_names():
    assert isinstance(get_loss(None, "softmax"), CrossEntropy)
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known: binary_cross_entropy, cross_entropy, mse"):
        get_loss("hinge", "sigmoid")
    with pytest.raises(ValueError, match="pairs with a 'softmax' output"):
        get_loss("cross_entropy", "sigmoid")


def test_cross_entropy_keeps_precision_when_one_class_dominates():
    # -log softmax(z)[0] = log(1 + e^(z1 - z0)) = log1p(e^-13.8), computed to full precision.
    z = np.array([[6.12275736, -7.66699509]])
    expected = np.log1p(np.exp(z[0, 1] - z[0, 0]))
    assert CrossEntropy().value(z, np.array([[1.0, 0.0]])) == pytest.approx(expected, rel=1e-15)


def test_history_accuracy_agrees_with_predict_at_an_output_of_exactly_zero():
    """Zero weights give z = 0 and p = 0.5 on every row: predict says class 1, and so must the history."""
    import backproplab as bp
    from backproplab.core.metrics import accuracy

    net = bp.mlp([2, 3, 1], seed=0)
    for value in net.params.values():
        value[...] = 0.0
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 1])
    history = bp.fit(net, X, y, epochs=1, batch_size=4, progress=False,
                     optimizer=bp.SGD(lr=1e-300))  # the accuracy is summed before the (nil) step
    assert accuracy(y, net.predict(X)) == 0.75
    assert history.accuracy[0] == 0.75
