"""Iris and digits from scikit-learn's bundled copies; MNIST-1D from its package's generator."""

from __future__ import annotations

import random

import numpy as np

from backproplab.data import digits, iris, load, mnist1d


def test_iris_and_digits_shapes():
    X, y = iris()
    assert X.shape == (150, 4) and np.bincount(y).tolist() == [50, 50, 50]
    X, y = digits()
    assert X.shape == (1797, 64) and X.min() == 0 and X.max() == 16 and set(y.tolist()) == set(range(10))


def test_mnist1d_is_generated_reproducibly_and_leaves_global_generators_alone():
    np.random.seed(123)  # noqa: NPY002 - checking that the legacy global state survives
    random.seed(123)
    X, y, X_test, _ = mnist1d(num_samples=200, seed=5)
    after = (np.random.random(), random.random())  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    assert after == (np.random.random(), random.random())  # noqa: NPY002
    assert X.shape == (160, 40) and X_test.shape == (40, 40) and set(y.tolist()) <= set(range(10))
    np.testing.assert_array_equal(X, mnist1d(num_samples=200, seed=5)[0])
    assert not np.array_equal(X, mnist1d(num_samples=200, seed=6)[0])


def test_mnist1d_by_name_cuts_validation_from_train():
    ds = load("mnist1d", val=0.2, num_samples=500)
    assert len(ds.y_test) == 100 and len(ds.y_train) + len(ds.y_val) == 400 and ds.n_classes == 10
    assert abs(len(ds.y_val) - 80) <= 5  # rounded per class (stratified)
