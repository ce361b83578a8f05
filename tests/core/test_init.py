"""Initialisers by name, and scikit-learn's initial parameters reproduced bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neural_network import MLPClassifier

import backproplab as bp
from backproplab.core.init import INITIALIZERS, sklearn_bound, sklearn_params


@pytest.mark.parametrize(("name", "factor"), [("sklearn_uniform", 6.0), ("sklearn_uniform_logistic", 2.0)])
def test_sklearn_uniform_bound_and_spread(name, factor):
    W = INITIALIZERS[name](np.random.default_rng(0), (300, 200), 300, 200)
    limit = np.sqrt(factor / 500)
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.99 * limit  # it fills the interval, not a smaller one
    assert W.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)  # uniform's standard deviation


def test_mlp_uses_the_registered_names():
    net = bp.mlp([4, 8, 3], activation="sigmoid", output="softmax", init="sklearn_uniform_logistic", seed=0)
    assert np.abs(net.params["0.W"]).max() <= sklearn_bound(4, 8, "logistic")
    assert not net.params["0.b"].any()  # Dense's biases start at zero; sklearn_params draws them


@settings(max_examples=15, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    n_features=st.integers(1, 5),
    n_classes=st.integers(3, 4),
    activation=st.sampled_from(["relu", "tanh", "logistic", "identity"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_sklearn_params_are_scikit_learns_own(hidden, n_features, n_classes, activation, seed):
    """The values scikit-learn's own ``_initialize`` draws for ``random_state=seed`` (before any training step)."""
    clf = MLPClassifier(tuple(hidden), activation=activation, random_state=seed)
    clf._random_state = np.random.RandomState(seed)
    clf._label_binarizer = type("LB", (), {"y_type_": "multiclass"})()
    sizes = [n_features, *hidden, n_classes]
    clf._initialize(np.zeros((1, n_classes)), sizes, np.float64)
    mine = sklearn_params(np.random.RandomState(seed), sizes, activation)
    for (W, b), coef, intercept in zip(mine, clf.coefs_, clf.intercepts_, strict=True):
        assert W.shape == coef.shape and b.shape == intercept.shape
        assert np.array_equal(W, coef) and np.array_equal(b, intercept)
