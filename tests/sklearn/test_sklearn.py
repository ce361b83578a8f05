"""The scikit-learn estimators: scikit-learn's own checks, and use in Pipeline, cross_val_score, GridSearchCV."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from backproplab.sklearn import MLPClassifier, MLPRegressor
from blas import one_blas_thread  # noqa: F401 - a fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("one_blas_thread")

SMALL = {"hidden_layer_sizes": (16,), "learning_rate_init": 0.01, "max_iter": 60, "random_state": 0}


@parametrize_with_checks(
    [
        MLPClassifier(**SMALL),
        MLPRegressor(**SMALL),
        MLPClassifier(**{**SMALL, "dropout": 0.1, "batch_norm": True, "solver": "adamw", "init": "he_normal"}),
        MLPRegressor(**{**SMALL, "solver": "sgd", "activation": "tanh", "learning_rate": "adaptive"}),
        MLPClassifier(**{**SMALL, "solver": "lbfgs"}),
        MLPRegressor(**{**SMALL, "solver": "lbfgs", "activation": "logistic"}),
    ],
    expected_failed_checks=lambda est: {} if est.solver == "lbfgs" else dict.fromkeys(
        ["check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data"],
        "a weight of 2 and a repeated row differ once mini-batches are drawn: the repeated row can fall in "
        "another batch (scikit-learn runs these checks on its own MLP with solver='lbfgs' only)"),
)
def test_sklearn_estimator_checks(estimator, check):
    # early_stopping=True is left out: its partial_fit refuses to run, as scikit-learn's does, and one check calls it.
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_and_cross_val_score_beat_chance_clearly(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
                                                         max_iter=150, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85  # chance is 1/3


def test_grid_search_picks_from_the_grid(iris):
    X, y = iris
    grid = GridSearchCV(MLPClassifier(max_iter=40, random_state=0, learning_rate_init=0.01),
                        {"hidden_layer_sizes": [(4,), (16,)], "solver": ["adam", "sgd"]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["hidden_layer_sizes"] in [(4,), (16,)]
    assert grid.cv_results_["mean_test_score"].shape == (4,)
    assert grid.score(X, y) > 0.6


def test_curves_and_attributes(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=1, early_stopping=True,
                        n_iter_no_change=100, learning_rate_init=0.01).fit(X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ == 30 == len(clf.validation_scores_)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert list(clf.classes_) == [0, 1, 2] and clf.n_features_in_ == 4
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1)
    without = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=1).fit(X, y)
    assert without.validation_scores_ is None and len(without.loss_curve_) == 5
    assert without.best_loss_ == min(without.loss_curve_) and without.t_ == 5 * len(X)


def test_string_labels_and_refit_is_deterministic(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    a = MLPClassifier(**SMALL).fit(X, names)
    b = clone(a).fit(X, names)
    assert set(a.predict(X)) <= set(names)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_regressor_multi_output_and_r2():
    X, Y = make_regression(n_samples=200, n_features=5, n_targets=2, noise=1.0, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=200, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.9
    single = MLPRegressor(**SMALL).fit(X, Y[:, 0])
    assert single.predict(X).shape == (200,)


def test_alpha_shrinks_the_weights(iris):
    X, y = iris
    strong = MLPClassifier(hidden_layer_sizes=(8,), alpha=50.0, max_iter=50, random_state=0).fit(X, y)
    weak = MLPClassifier(hidden_layer_sizes=(8,), alpha=0.0, max_iter=50, random_state=0).fit(X, y)
    assert np.abs(strong.coefs_[0]).sum() < np.abs(weak.coefs_[0]).sum()


def test_pickle_round_trip(iris):
    X, y = iris
    clf = MLPClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), clf.predict_proba(X))


def test_pickle_keeps_replaced_coefficients(iris):
    X, y = iris
    clf = MLPClassifier(**SMALL).fit(X, y)
    clf.coefs_[1] = np.zeros_like(clf.coefs_[1])  # replaced, not changed in place
    clf.intercepts_[1] = np.array([0.0, 5.0, 0.0])
    back = pickle.loads(pickle.dumps(clf))
    assert (back.predict(X) == 1).all() and (clf.predict(X) == 1).all()
    assert back.coefs_[0] is back.net_.params["0.W"]  # the unpickled attributes are the network's arrays again
