"""The seeded split and the training-only standardisation, and ``load`` over every offline data set."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backproplab.data import DATASETS, MULTICLASS, load, split


@settings(max_examples=30, deadline=None)
@given(n=st.integers(10, 200), k=st.integers(2, 4), val=st.floats(0, 0.4), test=st.floats(0, 0.4),
       seed=st.integers(0, 1000))
def test_parts_are_disjoint_cover_everything_and_are_stratified(n, k, val, test, seed):
    X = np.arange(n, dtype=float)[:, None]  # row i holds i: rows can be traced through the split
    y = np.arange(n) % k
    ds = split(X, y, val=val, test=test, seed=seed, standardize=False)
    rows = np.concatenate([ds.X_train[:, 0], ds.X_val[:, 0], ds.X_test[:, 0]]).astype(int)
    assert sorted(rows.tolist()) == list(range(n))
    for part_X, part_y in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        np.testing.assert_array_equal(part_y, part_X[:, 0].astype(int) % k)  # labels travel with their rows
    for c in range(k):  # each class cut in the same proportion (rounded per class)
        n_c = int((y == c).sum())
        assert int((ds.y_test == c).sum()) == round(test * n_c)
        assert int((ds.y_val == c).sum()) == round(val * n_c)


def test_same_seed_same_split_other_seed_other_split():
    X, y = np.random.default_rng(0).standard_normal((50, 3)), np.arange(50) % 2
    a, b, c = split(X, y, seed=1), split(X, y, seed=1), split(X, y, seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_standardisation_is_fitted_on_train_only():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, (300, 4))
    X[:, 3] = 7.0  # a constant feature must not divide by zero
    ds = split(X, np.arange(300) % 3, seed=0)
    np.testing.assert_allclose(ds.X_train[:, :3].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train[:, :3].std(axis=0), 1)
    np.testing.assert_array_equal(ds.X_train[:, 3], 0)
    assert np.abs(ds.X_val[:, :3].mean(axis=0)).max() > 1e-6  # not re-centred on its own statistics
    raw = split(X, np.arange(300) % 3, seed=0, standardize=False)
    np.testing.assert_allclose(ds.transform(raw.X_test), ds.X_test)
    np.testing.assert_allclose(ds.mean, raw.X_train.mean(axis=0))


def test_official_test_set_is_kept():
    X, y = np.arange(40.0)[:, None], np.arange(40) % 2
    ds = split(X, y, val=0.25, test=0, test_set=(np.array([[100.0], [101.0]]), [0, 1]), standardize=False)
    np.testing.assert_array_equal(ds.X_test[:, 0], [100, 101])
    assert len(ds.y_train) == 30 and len(ds.y_val) == 10


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: split(np.ones((4, 2)), [0, 1, 0]), "one entry per row"), (lambda: split(np.ones(4), [0] * 4), "2-D"),
     (lambda: split(np.ones((4, 2)), [0] * 4, val=0.5, test=0.5), "below 1"),
     (lambda: split(np.ones((4, 2)), [0.5] * 4), "integer"), (lambda: load("cifar"), "cifar")],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("name", [n for n in DATASETS if n not in ("mnist", "mnist1d")])
def test_load_every_offline_data_set(name):
    ds = load(name, seed=1)
    assert ds.X_train.ndim == 2 and ds.X_train.shape[1] == ds.X_test.shape[1] == ds.n_features
    assert ds.n_classes >= 2 and set(np.unique(ds.y_train)) <= set(range(ds.n_classes))
    assert ds.y_train.dtype == np.int64
    # The config gives softmax to the data sets MULTICLASS names, before loading any: the list must be right.
    assert (ds.n_classes > 2) == (name in MULTICLASS)


def test_logic_tables_are_their_own_train_val_and_test():
    ds = load("xor")
    np.testing.assert_array_equal(ds.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(ds.y_test, [0, 1, 1, 0])
