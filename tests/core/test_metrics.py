"""Metrics against scikit-learn's, per run, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from backproplab.core.metrics import accuracy, confusion_matrix, f1_score, precision_recall, r2_score


@settings(max_examples=40, deadline=None)
@given(runs=st.integers(1, 4), n=st.integers(1, 40), k=st.integers(2, 5), seed=st.integers(0, 2**16),
       shared=st.booleans())
def test_classification_metrics_match_sklearn_per_run(runs, n, k, seed, shared):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n) if shared else rng.integers(0, k, (runs, n))
    y_pred = rng.integers(0, k, (runs, n))
    acc = accuracy(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, n_classes=k)
    prec, rec = precision_recall(y_true, y_pred, n_classes=k)
    f1 = f1_score(y_true, y_pred, n_classes=k)
    assert acc.shape == (runs,) and cm.shape == (runs, k, k) and prec.shape == rec.shape == f1.shape == (runs, k)
    per_class = {"labels": list(range(k)), "average": None, "zero_division": 0}
    for r in range(runs):
        t = y_true if shared else y_true[r]
        assert acc[r] == pytest.approx(skm.accuracy_score(t, y_pred[r]))
        np.testing.assert_array_equal(cm[r], skm.confusion_matrix(t, y_pred[r], labels=per_class["labels"]))
        np.testing.assert_allclose(prec[r], skm.precision_score(t, y_pred[r], **per_class))
        np.testing.assert_allclose(rec[r], skm.recall_score(t, y_pred[r], **per_class))
        np.testing.assert_allclose(f1[r], skm.f1_score(t, y_pred[r], **per_class))


def test_single_network_gives_scalars_and_matrices():
    y_true, y_pred = [0, 1, 2, 2], [0, 2, 2, 2]
    assert accuracy(y_true, y_pred) == 0.75
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), [[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    precision, recall = precision_recall(y_true, y_pred)
    np.testing.assert_allclose(precision, [1, 0, 2 / 3])  # class 1 never predicted: 0, not NaN
    np.testing.assert_allclose(recall, [1, 0, 1])


@settings(max_examples=30, deadline=None)
@given(runs=st.integers(1, 3), n=st.integers(2, 30), k=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_r2_matches_sklearn_per_run(runs, n, k, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.standard_normal((n, k))
    y_pred = y_true + 0.5 * rng.standard_normal((runs, n, k))
    r2 = r2_score(y_true, y_pred)
    assert r2.shape == (runs,)
    for r in range(runs):
        assert r2[r] == pytest.approx(skm.r2_score(y_true, y_pred[r]), rel=1e-10, abs=1e-12)


def test_r2_edge_cases():
    assert r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    assert r2_score([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0  # predicting the mean
    assert r2_score([5.0, 5.0], [5.0, 5.0]) == 1.0  # constant target, predicted exactly
    assert r2_score([5.0, 5.0], [4.0, 5.0]) == 0.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: accuracy([0, 1], [0, 1, 1]), "samples"),
        (lambda: accuracy([0.5, 1], [0, 1]), "integer"),
        (lambda: accuracy([[0, 1]] * 2, [[0, 1]] * 3), "runs"),
        (lambda: confusion_matrix([0, 3], [0, 1], n_classes=3), "n_classes"),
        (lambda: r2_score([1.0, 2.0], [1.0, 2.0, 3.0]), "y_true"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
