"""What a scikit-learn user's code expects of the estimators: attributes, partial_fit, warm_start, lbfgs,
warnings, parameter validation with scikit-learn's exception types, divergence, initialisation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import neural_network as sk
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from backproplab import sklearn as bps
from backproplab.core.init import sklearn_bound
from backproplab.errors import BackproplabError
from backproplab.sklearn import DivergenceError, MLPClassifier, MLPRegressor, _docs
from blas import one_blas_thread  # noqa: F401 - a fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("one_blas_thread")

FAST = {"hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0, "learning_rate_init": 0.01}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def quiet(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def test_layouts_of_the_attributes(iris):
    X, y = iris
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8, 5), max_iter=5, random_state=0), X, y)
    assert [W.shape for W in clf.coefs_] == [(4, 8), (8, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (5,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 5 == len(clf.loss_curve_) and clf.loss_ == clf.loss_curve_[-1]
    binary = quiet(MLPClassifier(**FAST), X, y == 2)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1 and binary.coefs_[-1].shape == (8, 1)
    assert binary.predict_proba(X).shape == (150, 2) and binary.predict(X).dtype == bool
    labels = np.stack([y == 0, y == 1], axis=1).astype(int)  # multilabel: one logistic unit per label
    multi = quiet(MLPClassifier(**FAST), X, labels)
    assert multi.out_activation_ == "logistic" and multi.predict(X).shape == (150, 2)
    reg = quiet(MLPRegressor(**FAST), X, X[:, 0])
    assert reg.out_activation_ == "identity" and reg.n_outputs_ == 1 and reg.intercepts_[-1].shape == (1,)


def test_setting_coefs_before_predict_is_used(iris):
    X, y = iris
    clf = quiet(MLPClassifier(**FAST), X, y)
    clf.coefs_[-1][:] = 0.0  # in place
    clf.intercepts_ = [clf.intercepts_[0], np.array([0.0, 0.0, 3.0])]  # a new list
    assert (clf.predict(X) == 2).all()
    with pytest.raises(ValueError, match=r"shape \(2,\), expected \(3,\)"):
        clf.intercepts_ = [clf.intercepts_[0], np.zeros(2)]
        clf.predict(X)


def test_warm_start_continues_and_partial_fit_needs_classes_first(iris):
    X, y = iris
    cold = quiet(MLPClassifier(**FAST), X, y)
    warm = quiet(MLPClassifier(**FAST, warm_start=True), X, y)
    first = warm.coefs_[0].copy()
    quiet(warm, X, y)
    assert not np.array_equal(warm.coefs_[0], first) and warm.t_ == 2 * cold.t_
    stream = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        stream.partial_fit(X[:10], y[:10])
    stream.partial_fit(X[:10], y[:10], classes=[0, 1, 2])  # the first ten rows hold class 0 only
    stream.partial_fit(X[50:], y[50:])
    assert list(stream.classes_) == [0, 1, 2] and stream.t_ == 110 and stream.n_iter_ == 1
    with pytest.raises(ValueError, match="classes not in"):
        stream.partial_fit(X[:3], np.array([0, 1, 7]))
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")  # as scikit-learn: stochastic solvers only
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_lbfgs_full_batch_with_max_iter_and_max_fun(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.97 and not hasattr(clf, "loss_curve_")
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        short = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_fun=10, random_state=0).fit(X, y)
    assert short.n_iter_ <= 10
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)
    noisy = MLPClassifier(**{**FAST, "max_iter": 2}, dropout=0.2).fit(X, y)
    before = [W.copy() for W in noisy.coefs_]
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):  # nor warm-started by lbfgs
        noisy.set_params(solver="lbfgs", warm_start=True).fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, noisy.coefs_, strict=True))


def test_max_iter_warns_and_verbose_prints(iris, capsys):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(**{**FAST, "max_iter": 3}, verbose=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ") and len(out) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopping on the plateau is no warning
        MLPClassifier(**{**FAST, "max_iter": 500, "tol": 0.5}).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": np.int64(0)}, {"alpha": np.float32(1e-4)}, {"n_iter_no_change": np.inf},
        {"learning_rate_init": np.float64(0.01)}, {"batch_size": np.int32(32)}, {"hidden_layer_sizes": np.array([6])},
        {"learning_rate": "constant"}, {"momentum": np.float32(0.5), "solver": "sgd"},
    ],
)
def test_numpy_scalars_and_inf_are_accepted(iris, params):
    X, y = iris
    quiet(MLPClassifier(**{**FAST, "max_iter": 3, **params}), X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -0.1}, {"alpha": "0.1"}, {"solver": "newton"}, {"activation": "softplus"}, {"batch_size": 0},
        {"validation_fraction": 1.5}, {"learning_rate_init": -1}, {"learning_rate": "cosine"}, {"max_iter": 2.5},
        {"n_iter_no_change": -np.inf}, {"hidden_layer_sizes": (0,)}, {"beta_1": 1.0}, {"max_fun": 0},
        {"shuffle": "yes"}, {"momentum": 2.0},
    ],
)
def test_bad_parameters_raise_what_scikit_learn_raises(iris, params):
    X, y = iris
    with pytest.raises(Exception) as theirs:
        sk.MLPClassifier(**params).fit(X, y)
    with pytest.raises(type(theirs.value)) as mine:
        MLPClassifier(**params).fit(X, y)
    assert str(mine.value).split(" must ")[0] == str(theirs.value).split(" must ")[0]  # names the same parameter


def test_validation_set_too_small_is_refused():
    X = np.arange(10.0)[:, None]  # 10% of 10 rows: one validation row, which scikit-learn refuses too
    for module in (sk, bps):
        with pytest.raises(ValueError, match="The validation set is too small"):
            module.MLPRegressor(early_stopping=True, random_state=0).fit(X, X[:, 0])
        with pytest.raises(ValueError, match="The validation set is too small"):
            module.MLPClassifier(early_stopping=True, random_state=0).fit(X, np.arange(10) % 3)


def test_divergence_is_a_value_error_and_early_stopping_keeps_the_best(iris):
    X, _ = iris
    wild = {"hidden_layer_sizes": (8,), "solver": "sgd", "learning_rate_init": 1e6, "random_state": 0,
            "activation": "identity", "max_iter": 50}
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights") as error:  # sklearn's
        MLPRegressor(**wild).fit(X * 1e3, X[:, 0] * 1e3)
    assert isinstance(error.value, DivergenceError) and isinstance(error.value, BackproplabError)
    with pytest.warns(ConvergenceWarning, match="kept the best epoch"):
        reg = MLPRegressor(**{**wild, "learning_rate_init": 3e-2, "early_stopping": True}).fit(X * 30, X[:, 0])
    assert np.isfinite(reg.predict(X)).all() and reg.best_validation_score_ == np.nanmax(reg.validation_scores_)
    assert np.isnan(reg.validation_scores_[-1]) and isinstance(reg.validation_scores_[-1], float)  # as sklearn's


def test_default_initialisation_is_scikit_learns_and_init_picks_others(iris):
    X, y = iris
    theirs = quiet(sk.MLPClassifier(hidden_layer_sizes=(6,), max_iter=1, random_state=5, activation="logistic"), X, y)
    mine = quiet(MLPClassifier(hidden_layer_sizes=(6,), max_iter=1, random_state=5, activation="logistic"), X, y)
    np.testing.assert_allclose(mine.coefs_[0], theirs.coefs_[0], atol=1e-12)
    other = quiet(MLPClassifier(hidden_layer_sizes=(50,), max_iter=1, random_state=5, init="he_normal",
                                learning_rate_init=1e-12), X, y)
    assert np.abs(other.coefs_[0]).max() > sklearn_bound(4, 50)  # a normal draw goes past the uniform bound
    assert np.abs(other.intercepts_[0]).max() < 1e-9  # zero biases, moved by one tiny step only


def test_dropout_and_batch_norm_still_train(iris):
    X, y = iris
    clf = quiet(MLPClassifier(hidden_layer_sizes=(16,), dropout=0.2, batch_norm=True, max_iter=80,
                              learning_rate_init=0.01, random_state=0), X, y)
    assert clf.score(X, y) > 0.9 and len(clf.coefs_) == 2


@pytest.mark.parametrize(("name", "value"), [("hidden_layer_sizes", (5,)), ("activation", "tanh"),
                                             ("batch_norm", True), ("dropout", 0.2)])
def test_warm_start_after_set_params_changing_the_network_is_refused(iris, name, value):
    X, y = iris
    clf = quiet(MLPClassifier(**FAST, warm_start=True), X, y)
    before = [W.copy() for W in clf.coefs_]
    clf.set_params(**{name: value})
    with pytest.raises(ValueError, match=f"{name} is .* but the fitted network has .*warm_start=False"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=f"{name} is "):
        clf.partial_fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, clf.coefs_, strict=True))  # nothing trained
    clf.set_params(warm_start=False)
    assert quiet(clf, X, y).get_params()[name] == value  # starting anew takes the new shape


def test_hidden_layer_sizes_of_fractions_get_their_own_message(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must hold whole numbers of units, got \(2.5,\)"):
        MLPClassifier(hidden_layer_sizes=(2.5,)).fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes must be > 0, got \[0\]"):
        MLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)


def test_coefficients_set_by_hand_are_the_ones_partial_fit_trains():
    """scikit-learn's worked example (its test_fit): weights set before any fit, one sgd step."""
    clf = MLPClassifier(solver="sgd", learning_rate_init=0.1, alpha=0.1, activation="logistic", random_state=1,
                        max_iter=1, hidden_layer_sizes=2, momentum=0)
    clf.coefs_ = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0]]), np.array([[0.1], [0.2]])]
    clf.intercepts_ = [np.array([0.1, 0.1]), np.array([1.0])]
    clf.n_outputs_, clf.n_layers_, clf.t_, clf.n_iter_ = 1, 3, 0, 0
    clf.partial_fit(np.array([[0.6, 0.8, 0.7]]), np.array([0]), classes=[0, 1])
    np.testing.assert_allclose(clf.coefs_[0], [[0.098, 0.195756], [0.2956664, 0.096008], [0.4939998, -0.002244]],
                               atol=1e-3)
    np.testing.assert_allclose(clf.intercepts_[1], [0.9235], atol=1e-3)


def test_poisson_loss_with_no_hidden_nonlinearity_is_a_poisson_glm():
    from sklearn.linear_model import PoissonRegressor

    X = np.linspace(0, 1, 100)[:, None]
    y = np.random.default_rng(0).poisson(np.exp(X[:, 0] + 1))
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(1,), activation="identity", alpha=0, solver="lbfgs",
                       tol=1e-7, random_state=1).fit(X, y)
    assert reg.out_activation_ == "exp"
    np.testing.assert_allclose(reg.predict(X), glm.predict(X), rtol=1e-4)
    with pytest.raises(ValueError, match="loss='poisson' needs y >= 0"):
        MLPRegressor(loss="poisson").fit(X, -y)


def test_multilabel_partial_fit_takes_the_labels_from_y():
    X = np.random.default_rng(0).normal(size=(40, 3))
    Y = (X[:, :2] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(6,), random_state=0, solver="sgd", learning_rate_init=0.2)
    for _ in range(3):
        clf.partial_fit(X, Y, classes=[0, 1])
    assert clf.out_activation_ == "logistic" and clf.predict(X).shape == (40, 2)


def test_html_view_links_to_our_api_pages_with_parameter_help(monkeypatch):
    monkeypatch.setattr(_docs, "DOCS_URL", "https://docs.example/backproplab/")
    html = MLPClassifier(alpha=0.01)._repr_html_()
    assert "https://docs.example/backproplab/generated/api/backproplab.sklearn.MLPClassifier.html" in html  # "?"
    assert "Strength of the L2 penalty" in html  # alpha's help, from the docstring's Parameters section
    assert MLPRegressor()._get_doc_link().endswith("backproplab.sklearn.MLPRegressor.html")


def test_html_view_has_no_link_while_no_documentation_url_is_declared(monkeypatch):
    monkeypatch.setattr(_docs, "DOCS_URL", "")  # pyproject.toml declares none (yet): no host is made up
    html = MLPClassifier(alpha=0.01)._repr_html_()
    assert MLPClassifier()._get_doc_link() == "" and "generated/api" not in html and "alpha" in html


@pytest.mark.parametrize(("entries", "url"), [
    (["Homepage, https://x.example", "Documentation, https://docs.example/bp"], "https://docs.example/bp/"),
    (["documentation , https://docs.example/bp/ "], "https://docs.example/bp/"),
    (["Homepage, https://x.example"], ""),
    (None, ""),
])
def test_documentation_url_is_read_from_the_installed_metadata(monkeypatch, entries, url):
    class Metadata:
        def get_all(self, name):
            assert name == "Project-URL"
            return entries

    monkeypatch.setattr(_docs, "metadata", lambda distribution: Metadata())
    assert _docs.declared_documentation_url() == url
