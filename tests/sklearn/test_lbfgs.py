"""L-BFGS on a network's parameters: scikit-learn's numbers, its stopping rules, and what it refuses."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier

import backproplab as bp
from backproplab.core.init import sklearn_params
from backproplab.data import logic_table
from backproplab.sklearn.lbfgs import minimize_lbfgs
from blas import one_blas_thread  # noqa: F401 - a fixture, used through pytestmark

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def sklearn_start(sizes, seed, activation="relu", output="softmax"):
    net = bp.mlp(sizes, activation="sigmoid" if activation == "logistic" else activation, output=output)
    drawn = sklearn_params(np.random.RandomState(seed), sizes, activation)
    names = [n for n in net.params if n.endswith(".W")]
    net.set_params({k: v for n, (W, b) in zip(names, drawn, strict=True) for k, v in ((n, W), (n[:-1] + "b", b[None]))})
    return net


# backproplab's sigmoid is 1 / (1 + exp(-z)) computed by NumPy, scikit-learn's is SciPy's expit: they
# differ in the last bits, and 20 iterations carry that to about 2e-9.
@pytest.mark.parametrize(("activation", "atol"), [("relu", 1e-10), ("tanh", 1e-10), ("logistic", 1e-8)])
def test_twenty_iterations_equal_scikit_learns(activation, atol):
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 iterations do not converge, on purpose
        clf = MLPClassifier((10, 5), activation=activation, solver="lbfgs", alpha=1e-3, max_iter=20,
                            random_state=3).fit(X, y)
    net = sklearn_start([4, 10, 5, 3], 3, activation)
    result = minimize_lbfgs(net, X, y, l2=1e-3 / len(X), max_iter=20)
    assert result.n_iter == clf.n_iter_ == 20 and not result.converged
    assert result.loss == pytest.approx(clf.loss_, rel=atol)
    Ws = [p for n, p in net.params.items() if n.endswith(".W")]
    for W, coef in zip(Ws, clf.coefs_, strict=True):
        np.testing.assert_allclose(W, coef, rtol=0, atol=atol)


def test_it_solves_xor_and_reports_convergence(capsys):
    X, y = logic_table("xor")
    net = bp.mlp([2, 4, 1], activation="tanh", seed=1)
    result = minimize_lbfgs(net, X, y, max_iter=500, tol=1e-8, verbose=True)
    assert result.converged and result.loss < 1e-3
    assert np.array_equal(net.predict(X), y.ravel())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == result.n_iter and lines[0].startswith("Iteration 1, loss = ")


def test_max_fun_limits_the_evaluations():
    X, y = logic_table("xor")
    result = minimize_lbfgs(bp.mlp([2, 4, 1], seed=0), X, y, max_iter=500, max_fun=5)
    assert not result.converged and result.n_fun <= 6  # SciPy may finish the line search it began


def test_the_penalty_shrinks_weights_but_not_biases():
    X, y = logic_table("and")
    free, tied = bp.mlp([2, 3, 1], seed=0), bp.mlp([2, 3, 1], seed=0)
    minimize_lbfgs(free, X, y, max_iter=50)
    minimize_lbfgs(tied, X, y, l2=1.0, max_iter=50)
    norm = lambda net: sum(float((p**2).sum()) for n, p in net.params.items() if n.endswith(".W"))  # noqa: E731
    assert norm(tied) < 0.5 * norm(free)


@pytest.mark.parametrize(
    ("net", "kwargs", "error", "match"),
    [
        (lambda: bp.mlp([2, 3, 1], dropout=0.2), {}, ValueError, "dropout"),
        (lambda: bp.mlp([2, 3, 1], runs=2), {}, ValueError, "runs axis"),
        (lambda: "net", {}, TypeError, "Network"),
        (lambda: bp.mlp([2, 3, 1]), {"l2": -1.0}, ValueError, "l2"),
        (lambda: bp.mlp([2, 3, 1]), {"max_iter": 0}, ValueError, "max_iter"),
        (lambda: bp.mlp([2, 3, 1]), {"max_fun": 1.5}, TypeError, "max_fun"),
    ],
)
def test_refused_before_any_work(net, kwargs, error, match):
    X, y = logic_table("xor")
    with pytest.raises(error, match=match):
        minimize_lbfgs(net(), X, y, **kwargs)


def test_without_scipy_one_line_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # what a missing package looks like
    X, y = logic_table("xor")
    with pytest.raises(ImportError, match=r"^L-BFGS needs SciPy: pip install 'backproplab\[sklearn\]'$"):
        minimize_lbfgs(bp.mlp([2, 3, 1]), X, y)
