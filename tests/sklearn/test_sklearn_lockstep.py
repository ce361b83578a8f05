"""Lockstep with scikit-learn: from the same start and batch order, the same coefficients after 20 iterations.

The same ``random_state`` gives both libraries the same initial weights, validation rows and batch
order (backproplab draws them as scikit-learn does); every update follows scikit-learn's formulas.
What is left is rounding: for the stochastic solvers the products are grouped differently
(backproplab's ``fit`` divides the output delta by the batch size before the matmul, scikit-learn
after), a few 1e-16 per step; ``lbfgs`` groups them as scikit-learn does (``sklearn._objective``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import neural_network as sk
from sklearn.datasets import load_digits, load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from backproplab import sklearn as bp
from blas import one_blas_thread  # noqa: F401 - a fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("one_blas_thread")

TOL = 1e-10


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def both(kind, X, y, **params):
    """The scikit-learn and the backproplab estimator, fitted alike (max_iter is reached on purpose)."""
    fitted = []
    for module in (sk, bp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(getattr(module, kind)(**params).fit(X, y))
    return fitted


def assert_same(theirs, mine, tol=TOL):
    assert mine.n_iter_ == theirs.n_iter_ and mine.n_layers_ == theirs.n_layers_
    assert mine.out_activation_ == theirs.out_activation_ and mine.n_outputs_ == theirs.n_outputs_
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, mine.coefs_ + mine.intercepts_, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=tol)
    assert mine.loss_ == pytest.approx(theirs.loss_, rel=tol)
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(mine.loss_curve_, theirs.loss_curve_, rtol=tol)
        assert mine.t_ == theirs.t_


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "learning_rate": "constant"},
        {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.3, "learning_rate_init": 0.1},
        {"solver": "sgd", "learning_rate": "constant", "nesterovs_momentum": False, "momentum": 0.5},
        {"solver": "adam"},
        {"solver": "adam", "activation": "tanh", "batch_size": 32, "alpha": 0.01},
        {"solver": "lbfgs"},
        {"solver": "lbfgs", "activation": "tanh", "hidden_layer_sizes": (8, 6)},
    ],
)
def test_classifier_twenty_iterations(iris, params):
    X, y = iris
    theirs, mine = both("MLPClassifier", X, y, **{"hidden_layer_sizes": (10,), "max_iter": 20, "random_state": 0,
                                                 **params})
    assert mine.n_iter_ == 20
    assert_same(theirs, mine)


def test_adaptive_rate_and_early_stopping_follow_scikit_learn(iris):
    X, y = iris
    params = {"hidden_layer_sizes": (10,), "max_iter": 60, "random_state": 1, "solver": "sgd",
              "learning_rate": "adaptive", "n_iter_no_change": 2, "tol": 1e-2, "learning_rate_init": 0.05}
    assert_same(*both("MLPClassifier", X, y, **params))
    theirs, mine = both("MLPClassifier", X, y, **{**params, "early_stopping": True, "learning_rate": "constant"})
    assert mine.n_iter_ < 60 and mine.validation_scores_ == theirs.validation_scores_
    assert mine.best_validation_score_ == theirs.best_validation_score_
    assert_same(theirs, mine)


def test_binary_has_one_logistic_unit_like_scikit_learn():
    X, y = load_digits(n_class=2, return_X_y=True)
    theirs, mine = both("MLPClassifier", X / 16, y, hidden_layer_sizes=(12,), max_iter=20, random_state=2)
    assert mine.out_activation_ == "logistic" and mine.n_outputs_ == 1 and mine.coefs_[-1].shape == (12, 1)
    assert_same(theirs, mine)
    np.testing.assert_allclose(mine.predict_proba(X / 16), theirs.predict_proba(X / 16), atol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_twenty_iterations(solver):
    X, y = make_regression(n_samples=120, n_features=4, n_targets=1, noise=0.5, random_state=0)
    theirs, mine = both("MLPRegressor", X, y / y.std(), hidden_layer_sizes=(9,), max_iter=20, random_state=4,
                        solver=solver)
    assert_same(theirs, mine)
    np.testing.assert_allclose(mine.predict(X), theirs.predict(X), atol=1e-10)


def test_the_same_given_start_gives_the_same_end(iris):
    """Weights set by hand on both (warm_start continues from them), not drawn from random_state."""
    X, y = iris
    rng = np.random.default_rng(7)
    start = [rng.normal(0, 0.3, (4, 10)), rng.normal(0, 0.3, (10, 3))]
    bias = [rng.normal(0, 0.1, 10), rng.normal(0, 0.1, 3)]
    models = both("MLPClassifier", X, y, hidden_layer_sizes=(10,), max_iter=1, random_state=0, warm_start=True,
                  solver="sgd")
    for model in models:
        model.coefs_ = [W.copy() for W in start]
        model.intercepts_ = [b.copy() for b in bias]
        model.set_params(max_iter=20)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    assert_same(*models)


@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor"])
def test_partial_fit_n_times_equals_scikit_learns_n_calls(iris, kind):
    X, y = iris
    target = y if kind == "MLPClassifier" else X[:, 0] * 0.5 - y
    models = [getattr(m, kind)(hidden_layer_sizes=(7,), random_state=3, solver="sgd", batch_size=16)
              for m in (sk, bp)]
    chunks = np.array_split(np.arange(len(X)), 5)
    for _ in range(3):
        for rows in chunks:
            for model in models:
                extra = {"classes": np.unique(y)} if kind == "MLPClassifier" else {}
                model.partial_fit(X[rows], target[rows], **extra)
    theirs, mine = models
    assert mine.n_iter_ == theirs.n_iter_ == 1 and mine.t_ == theirs.t_ == 3 * len(X)
    assert_same(theirs, mine)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_input_trains_in_float32_in_lockstep(iris, solver):
    """float32 X: float32 coefficients and predictions, scikit-learn's numbers to float32 rounding."""
    X, y = iris
    X32 = X.astype(np.float32)
    theirs, mine = both("MLPClassifier", X32, y, hidden_layer_sizes=(10,), max_iter=20, random_state=0,
                        solver=solver)
    assert all(a.dtype == np.float32 for a in mine.coefs_ + mine.intercepts_)
    assert mine.net_.dtype == np.float32 and mine.predict_proba(X32).dtype == np.float32
    assert mine.n_iter_ == theirs.n_iter_
    # float32's eps is 1.2e-7. backproplab divides the output delta by the batch size before the products,
    # scikit-learn after (module docstring): 3e-8 apart after 20 epochs, 4e-7 in the regressor's predictions.
    tol = 1e-6
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, mine.coefs_ + mine.intercepts_, strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=tol)
    reg_theirs, reg_mine = both("MLPRegressor", X32, X32[:, 0] - X32[:, 1], hidden_layer_sizes=(6,), max_iter=20,
                                random_state=1, solver=solver)
    assert reg_mine.predict(X32).dtype == np.float32
    np.testing.assert_allclose(reg_mine.predict(X32), reg_theirs.predict(X32), rtol=0, atol=tol)


@pytest.mark.parametrize(("kind", "target", "params"), [
    ("MLPClassifier", "labels", {"hidden_layer_sizes": (10,)}),
    ("MLPClassifier", "labels", {"hidden_layer_sizes": (8, 6), "activation": "tanh", "alpha": 0.01}),
    ("MLPClassifier", "binary", {"hidden_layer_sizes": (10,), "alpha": 0.01}),  # one logistic output unit
    ("MLPClassifier", "weighted", {"hidden_layer_sizes": (10,), "alpha": 0.01}),  # float64 sample weights
    ("MLPRegressor", "values", {"hidden_layer_sizes": (6,)}),
])
def test_float32_lbfgs_is_scikit_learns(iris, kind, target, params):
    """lbfgs on float32 X, as scikit-learn: float32 passes, float64 coefs_ from SciPy's final vector.

    scikit-learn hands SciPy a float32 start, SciPy hands every evaluation float32 parameters,
    and scikit-learn unpacks SciPy's final float64 vector into ``coefs_``. backproplab does the
    same operations in the same order (``sklearn._objective``): the coefficients agree to the
    bit on this machine; TOL (1e-10) is below float32's resolution, so any difference fails.
    """
    X, y = iris
    X32 = X.astype(np.float32)
    y = {"labels": y, "weighted": y, "binary": y == 1, "values": X32[:, 0] - X32[:, 1]}[target]
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y)) if target == "weighted" else None
    fitted = []
    for module in (sk, bp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = getattr(module, kind)(max_iter=20, random_state=0, solver="lbfgs", **params)
            fitted.append(model.fit(X32, y, sample_weight=weights))
    theirs, mine = fitted
    assert mine.n_iter_ == 20
    assert all(a.dtype == b.dtype == np.float64 for a, b in zip(theirs.coefs_, mine.coefs_, strict=True))
    assert_same(theirs, mine)
    out = "predict_proba" if kind == "MLPClassifier" else "predict"
    ours, sklearns = getattr(mine, out)(X32), getattr(theirs, out)(X32)
    assert ours.dtype == sklearns.dtype == np.float64
    np.testing.assert_allclose(ours, sklearns, rtol=0, atol=TOL)


def test_lbfgs_multiplies_sparse_input_as_scipy_matrix_in_lockstep():
    """Sparse X below SPARSE_DENSITY stays sparse: the first layer's products are SciPy's, as scikit-learn's."""
    import scipy.sparse

    from backproplab.sklearn._objective import SPARSE_DENSITY, FullBatch

    X, y = make_classification(n_samples=200, n_features=40, n_informative=8, n_classes=3, random_state=0)
    X[np.random.default_rng(0).random(X.shape) < 0.85] = 0.0
    X = scipy.sparse.csr_matrix(X)
    assert X.nnz < SPARSE_DENSITY * X.shape[0] * X.shape[1]
    theirs, mine = both("MLPClassifier", X, y, hidden_layer_sizes=(12,), max_iter=30, random_state=0,
                        solver="lbfgs", alpha=0.01)
    assert_same(theirs, mine)
    np.testing.assert_allclose(mine.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=TOL)
    # the same objective as on the expanded matrix: loss and gradient, to rounding
    Y = np.eye(3)[y]
    sparse = FullBatch(mine.net_, X, Y, mine._loss(alpha=0.01))
    dense = FullBatch(mine.net_, X.toarray(), Y, mine._loss(alpha=0.01))
    assert sparse.sparse and not dense.sparse
    x = np.random.default_rng(1).normal(0, 0.3, sum(p.size for p in sparse.params))
    (v1, g1), (v2, g2) = sparse(x), dense(x)
    assert v1 == pytest.approx(v2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("container", ["csr_matrix", "csc_array"])
def test_sparse_input_in_lockstep(solver, container):
    import scipy.sparse

    X, y = load_digits(n_class=3, return_X_y=True)
    X = getattr(scipy.sparse, container)(X[:150] / 16)  # digits are mostly zeros
    y = y[:150]
    theirs, mine = both("MLPClassifier", X, y, hidden_layer_sizes=(12,), max_iter=20, random_state=0, solver=solver)
    assert_same(theirs, mine)
    np.testing.assert_allclose(mine.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert mine.partial_fit(X, y).n_iter_ == 1 if solver != "lbfgs" else True


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sample_weights_in_lockstep(iris, solver):
    X, y = iris
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    fitted = []
    for module in (sk, bp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(module.MLPClassifier(hidden_layer_sizes=(10,), max_iter=20, random_state=0, solver=solver,
                                               alpha=0.01).fit(X, y, sample_weight=weights))
    assert_same(*fitted)
    unweighted = bp.MLPClassifier(hidden_layer_sizes=(10,), max_iter=20, random_state=0, solver=solver, alpha=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unweighted.fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], fitted[1].coefs_[0])  # the weights do change the fit


def test_sample_weights_with_early_stopping_and_partial_fit_in_lockstep(iris):
    X, y = iris
    weights = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    params = {"hidden_layer_sizes": (10,), "max_iter": 40, "random_state": 2, "early_stopping": True,
              "learning_rate_init": 0.01, "n_iter_no_change": 3}
    fitted = []
    for module in (sk, bp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.append(module.MLPRegressor(**params).fit(X, y, sample_weight=weights))
    assert fitted[0].validation_scores_ == pytest.approx(fitted[1].validation_scores_, rel=1e-10)
    assert_same(*fitted)
    streams = [module.MLPRegressor(hidden_layer_sizes=(5,), random_state=0, batch_size=20) for module in (sk, bp)]
    for rows in np.array_split(np.arange(len(X)), 3):
        for model in streams:
            model.partial_fit(X[rows], y[rows], sample_weight=weights[rows])
    assert_same(*streams)
