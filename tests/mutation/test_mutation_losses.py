"""Losses and the public math helpers: scalar and 0-d inputs, the target rules at their boundaries, hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backproplab.core.layers import OUTPUTS, identity, sigmoid, softmax
from backproplab.core.losses import (
    DEFAULT_LOSS,
    LOSSES,
    BinaryCrossEntropy,
    CrossEntropy,
    MeanSquaredError,
    get_loss,
)


@pytest.mark.parametrize("z", [0.0, 2.0, -3.5, 800.0, -800.0])
@pytest.mark.parametrize("wrap", [float, np.float64, np.float32, np.array], ids=["float", "np.float64", "np.float32",
                                                                           "0-d"])
def test_sigmoid_of_a_scalar_or_0d_array(z, wrap):
    p = sigmoid(wrap(z))
    assert np.ndim(p) == 0
    assert float(p) == pytest.approx(1 / (1 + math.exp(-z)) if z > -700 else 0.0, rel=1e-6, abs=1e-300)


def test_sigmoid_keeps_the_input_and_its_dtype():
    z = np.array([[-1.0, 0.0, 3.0]], dtype=np.float32)
    kept = z.copy()
    p = sigmoid(z)
    np.testing.assert_array_equal(z, kept)  # a new array, the input untouched
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-kept.astype(np.float64))), rtol=1e-6)
    assert sigmoid(0) == 0.5


def test_softmax_of_a_1d_vector_and_of_huge_logits():
    np.testing.assert_allclose(softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75])
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0, -1000.0]])), [[0.5, 0.5, 0.0]])
    z = np.array([[1.0, 2.0], [3.0, 3.0]])
    kept = z.copy()
    softmax(z)
    np.testing.assert_array_equal(z, kept)


def test_identity_returns_its_input():
    z = np.array([[1.0, -2.0]])
    assert identity(z) is z
    assert {"sigmoid": sigmoid, "softmax": softmax, "identity": identity} == OUTPUTS


@pytest.mark.parametrize(
    ("loss", "z", "y", "value", "grad"),
    [
        # BCE at z = 0: log 2 per entry; gradient (0.5 - y) / (B * K)
        (BinaryCrossEntropy(), [[0.0], [0.0]], [[1.0], [0.0]], math.log(2), [[-0.25], [0.25]]),
        # BCE at z = +-log 3 (p = 3/4 or 1/4), K = 2 outputs
        (BinaryCrossEntropy(), [[math.log(3), -math.log(3)]], [[1.0, 1.0]], (math.log(4 / 3) + math.log(4)) / 2,
         [[(0.75 - 1) / 2, (0.25 - 1) / 2]]),
        # cross-entropy, softmax (1/4, 3/4)
        (CrossEntropy(), [[0.0, math.log(3)], [0.0, math.log(3)]], [[1.0, 0.0], [0.0, 1.0]],
         (math.log(4) + math.log(4 / 3)) / 2, [[(0.25 - 1) / 2, 0.75 / 2], [0.25 / 2, (0.75 - 1) / 2]]),
        # MSE: mean((z - y)^2) over B * K = 4 entries, gradient 2 (z - y) / 4
        (MeanSquaredError(), [[1.0, 2.0], [0.0, -1.0]], [[0.0, 0.0], [0.0, 1.0]], (1 + 4 + 0 + 4) / 4,
         [[0.5, 1.0], [0.0, -1.0]]),
    ],
    ids=["bce-zero", "bce-two-outputs", "cross-entropy", "mse"],
)
def test_hand_worked_values_and_gradients(loss, z, y, value, grad):
    z, y = np.array(z), np.array(y)
    assert loss.value(z, y) == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(loss.gradient(z, y), grad, rtol=1e-14, atol=1e-16)
    v, g = loss.value_and_gradient(z, y)
    assert v == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(g, grad, rtol=1e-14, atol=1e-16)
    # with a runs axis: one value per run, each run's own
    zr, yr = np.stack([z, 2 * z]), np.stack([y, y])
    values = loss.value(zr, yr)
    assert values.shape == (2,)
    assert values[0] == pytest.approx(value, rel=1e-14)
    assert values[1] == pytest.approx(loss.value(2 * z, y), rel=1e-14)
    np.testing.assert_allclose(loss.gradient(zr, yr)[1], loss.gradient(2 * z, y), rtol=1e-14, atol=1e-16)


def test_correct_counts_per_run():
    bce = BinaryCrossEntropy()
    z = np.array([[[1.0], [-1.0], [0.0]], [[-1.0], [-1.0], [2.0]]])  # (R=2, B=3, K=1)
    y = np.array([[1.0], [0.0], [0.0]])
    np.testing.assert_array_equal(bce.correct(z, y), [2, 1])  # z = 0 is class 1, as in predict (p >= 0.5)
    two = np.array([[1.0, 1.0], [1.0, -1.0]])  # a sample counts when all its outputs are right
    assert bce.correct(two, np.array([[1.0, 1.0], [1.0, 1.0]])) == 1
    ce = CrossEntropy()
    zc = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0]])
    assert ce.correct(zc, np.eye(3)[[0, 1]]) == 1


@pytest.mark.parametrize(
    "y",
    [[[0.5, 0.5], [1.0, 0.0]],  # soft labels, rows sum to 1
     [[1.0, 1.0], [1.0, 0.0]],  # entries in {0, 1}, a row sums to 2
     [[0.0, 0.0], [1.0, 0.0]]],  # an all-zero row
)
def test_cross_entropy_rows_must_be_one_hot(y):
    with pytest.raises(ValueError, match="one-hot"):
        CrossEntropy().prepare_targets(np.array(y), 2)


def test_cross_entropy_target_boundaries():
    ce = CrossEntropy()
    np.testing.assert_array_equal(ce.prepare_targets([0, 2, 1], 3), np.eye(3)[[0, 2, 1]])
    np.testing.assert_array_equal(ce.prepare_targets(np.eye(2), 2), np.eye(2))
    for bad in ([0, 3], [-1, 0], [0.5, 1]):
        with pytest.raises(ValueError, match=r"integer labels in 0\.\.2"):
            ce.prepare_targets(bad, 3)
    with pytest.raises(ValueError, match="one-hot rows of width 3"):
        ce.prepare_targets(np.eye(2), 3)
    with pytest.raises(ValueError, match="at least 2 units"):
        ce.prepare_targets([0, 0], 1)
    assert ce.prepare_targets([0, 1], 2).dtype == np.float64
    assert ce.prepare_targets([0, 1], 2, dtype="float32").dtype == np.float32
    # with a runs axis: labels (R, B) become one-hot rows (R, B, K)
    assert ce.prepare_targets([[0, 1], [1, 1]], 2, x_ndim=3).shape == (2, 2, 2)


def test_binary_targets_boundaries():
    bce = BinaryCrossEntropy()
    np.testing.assert_array_equal(bce.prepare_targets([0, 1, 1], 1), [[0.0], [1.0], [1.0]])
    assert bce.prepare_targets([[0, 1]], 2).shape == (1, 2)
    for bad in ([0, 2], [0, 0.5], [-1, 1]):
        with pytest.raises(ValueError, match=r"labels in \{0, 1\}"):
            bce.prepare_targets(bad, 1)
    with pytest.raises(ValueError, match="y has 2 columns but the network has 1 outputs"):
        bce.prepare_targets([[0, 1]], 1)
    with pytest.raises(ValueError, match="one value per sample"):
        bce.prepare_targets(np.zeros((2, 2, 1)), 1)
    assert bce.prepare_targets(np.zeros((2, 3, 1)), 1, x_ndim=3).shape == (2, 3, 1)
    with pytest.raises(ValueError, match="NaN"):
        MeanSquaredError().prepare_targets([0.0, float("nan")], 1)


def test_get_loss_resolves_names_instances_and_defaults():
    assert DEFAULT_LOSS == {"sigmoid": "binary_cross_entropy", "softmax": "cross_entropy", "identity": "mse"}
    for output, name in DEFAULT_LOSS.items():
        assert type(get_loss(None, output)) is LOSSES[name]
        assert type(get_loss(name, output)) is LOSSES[name]
    mse = MeanSquaredError()
    assert get_loss(mse, "identity") is mse
    with pytest.raises(ValueError, match="pairs with a 'identity' output"):
        get_loss(mse, "sigmoid")
    with pytest.raises(TypeError, match="loss must be a name or a Loss instance"):
        get_loss(3, "sigmoid")
    with pytest.raises(ValueError, match="hinge"):
        get_loss("hinge", "sigmoid")
    assert [cls().classifier for cls in (BinaryCrossEntropy, CrossEntropy, MeanSquaredError)] == [True, True, False]
    assert [(cls.name, cls.output) for cls in LOSSES.values()] == [
        ("binary_cross_entropy", "sigmoid"), ("cross_entropy", "softmax"), ("mse", "identity")]


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CrossEntropy(), MeanSquaredError()], ids=lambda x: x.name)
def test_value_without_runs_is_a_numpy_scalar_and_with_runs_one_per_run(loss):
    z = np.array([[0.5, -1.0], [2.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    for v in (loss.value(z, y), loss.value_and_gradient(z, y)[0]):
        assert isinstance(v, np.floating) and not isinstance(v, np.ndarray)
    assert loss.value(np.stack([z, z, z]), y).shape == (3,)


def test_cross_entropy_counts_correct_rows_per_run_and_keeps_the_target_dtype():
    ce = CrossEntropy()
    z = np.array([[[2.0, 1.0], [0.0, 1.0], [5.0, 0.0]], [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]])  # (R=2, B=3, K=2)
    y = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_array_equal(ce.correct(z, y), [2, 1])
    assert ce.prepare_targets(np.eye(2), 2, dtype="float32").dtype == np.float32


def test_bad_label_messages_list_at_most_five_values():
    with pytest.raises(ValueError, match=r"y contains \[2\.0, 3\.0, 4\.0, 5\.0, 6\.0\]$"):
        BinaryCrossEntropy().prepare_targets([0, 2, 3, 4, 5, 6, 7, 8], 1)
    with pytest.raises(ValueError, match=r"y contains \[3\.0, 4\.0, 5\.0, 6\.0, 7\.0\]$"):
        CrossEntropy().prepare_targets([0, 3, 4, 5, 6, 7, 8], 3)


def test_losses_repr_is_their_constructor():
    assert [repr(cls()) for cls in LOSSES.values()] == ["BinaryCrossEntropy()", "CrossEntropy()", "MeanSquaredError()"]
