"""scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, trained by backproplab: swap the import, keep the code.

Same parameters (plus backproplab's ``init``, ``dropout``, ``batch_norm`` and the
solvers ``"rmsprop"``/``"adamw"``), same validation and errors, same attributes
(``coefs_``, ``intercepts_``, ``loss_curve_``, ``n_iter_``, ``t_``, ...), same
``partial_fit``, ``warm_start`` and ``ConvergenceWarning``, and the same numbers:
from one ``random_state`` both draw the same initial weights (``init.sklearn_params``),
hold out the same validation rows and visit the same mini-batches, and every
update follows scikit-learn's formulas, so coefficients agree to rounding
(``tests/sklearn/test_sklearn_lockstep.py``). The passes themselves are backproplab's
network (``net_``), so dropout and batch norm drop in too.

Training (scikit-learn's rules): the loss is the mean loss of the batch plus
``alpha / (2 * batch) * sum(||W||**2)`` (weights only); stochastic solvers reshuffle
every epoch and stop when the training loss (or, with ``early_stopping``, the
validation score) has not improved by ``tol`` for more than ``n_iter_no_change``
epochs (``schedules.Plateau``); sgd's ``learning_rate="invscaling"`` and
``"adaptive"`` are ``schedules.InverseScaling`` and ``schedules.ReduceOnPlateau``;
``solver="lbfgs"`` is SciPy's L-BFGS-B on scikit-learn's objective over the whole
data set (``_objective``, run by ``lbfgs.run_lbfgs``). The stochastic solvers train
through backproplab's ``fit`` (``_stochastic``). Sparse ``X`` (CSR/CSC) is expanded
to a dense array (``lbfgs`` keeps a sparse enough one sparse), float32 ``X`` gives a
float32 network (``lbfgs``: float32 passes, float64 ``coefs_``, as scikit-learn's),
and ``sample_weight`` weighs every row's loss, as in scikit-learn.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from . import _docs
from ._base import DivergenceError, _BaseMLP

__all__ = ["DivergenceError", "MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, scikit-learn's ``MLPClassifier`` trained by backproplab.

    Binary problems get one logistic output unit, multiclass a softmax, multilabel
    (an indicator matrix ``y``) one logistic unit per label. From the same
    ``random_state`` it computes scikit-learn's coefficients, to rounding.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, as ``predict_proba``'s columns are ordered.
    coefs_ : list of ndarray, ``(fan_in, fan_out)`` each
        The weights: views of ``net_``'s arrays (assigning new arrays works too).
    intercepts_ : list of ndarray, ``(fan_out,)`` each
        The biases: views of ``net_``'s arrays.
    n_layers_, n_outputs_, out_activation_, loss_, best_loss_, loss_curve_, validation_scores_, \
best_validation_score_, t_, n_iter_, n_features_in_, feature_names_in_
        As scikit-learn's.
    net_ : Network
        The trained backproplab network.

    Examples
    --------
    From the same ``random_state``, the same numbers as scikit-learn's own
    ``MLPClassifier``:

    >>> import numpy as np
    >>> from sklearn import neural_network
    >>> from sklearn.datasets import load_iris
    >>> from backproplab.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = (X - X.mean(axis=0)) / X.std(axis=0)
    >>> params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.1, max_iter=300, random_state=0)
    >>> ours = MLPClassifier(**params).fit(X, y)
    >>> theirs = neural_network.MLPClassifier(**params).fit(X, y)
    >>> ours.n_iter_ == theirs.n_iter_, all(np.allclose(a, b) for a, b in zip(ours.coefs_, theirs.coefs_))
    (True, True)
    >>> [W.shape for W in ours.coefs_], ours.predict_proba(X[:2]).shape, bool(ours.score(X, y) > 0.95)
    ([(4, 8), (8, 3)], (2, 3), True)
    >>> np.shares_memory(ours.coefs_[0], ours.net_.params["0.W"])  # views of the backproplab network
    True
    """

    def _is_classifier(self) -> bool:
        return True

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_  # one class is allowed, as scikit-learn allows it
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(f"warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        binarizer = self._label_binarizer
        self.out_activation_ = "softmax" if binarizer.y_type_ == "multiclass" else "logistic"
        return X, binarizer.transform(y).astype(X.dtype)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on ``X`` and the labels ``y``; returns ``self``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 or float32 (the network takes that dtype; lbfgs ends in float64, as scikit-learn's);
            sparse input is expanded (lbfgs multiplies a sparse enough one as it is).
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or an indicator matrix for multilabel classification.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row's loss (scikit-learn >= 1.7's meaning).

        Returns
        -------
        self : MLPClassifier
            From scratch, or from the current weights with ``warm_start=True``.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPClassifier:
        """One epoch over ``X``, ``y`` from the current weights; ``classes`` (all labels) on the first call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every label the stream will hold; required on the first call (not for multilabel ``y``).

        Returns
        -------
        self : MLPClassifier
        """
        if not hasattr(self, "classes_"):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            elif classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on the first call to partial_fit, "
                             f"which was {self.classes_!r}")
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _score_val(self, X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None = None) -> float:
        return float(accuracy_score(self._label_binarizer.inverse_transform(Y), self._labels(self._output(X)),
                                    sample_weight=sw))

    def _labels(self, p: np.ndarray) -> np.ndarray:
        return self._label_binarizer.inverse_transform(p.ravel() if self.n_outputs_ == 1 else p)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels, ``(n_samples,)`` (multilabel: ``(n_samples, n_classes)`` indicators)."""
        return self._labels(self._output(self._input(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        p = self._output(self._input(X))
        return np.hstack([1 - p, p]) if self.n_outputs_ == 1 else p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of ``predict_proba``: ``-inf`` where a probability is 0, as scikit-learn."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight``)."""
        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, scikit-learn's ``MLPRegressor`` trained by backproplab.

    Identity output with half the squared error, or an exponential output with half the
    Poisson deviance; ``y`` may have several columns. From the same ``random_state`` it
    computes scikit-learn's coefficients, to rounding.

    Parameters
    ----------
    {loss}
    {parameters}

    Attributes
    ----------
    coefs_ : list of ndarray, ``(fan_in, fan_out)`` each
        The weights: views of ``net_``'s arrays (assigning new arrays works too).
    intercepts_ : list of ndarray, ``(fan_out,)`` each
        The biases: views of ``net_``'s arrays.
    n_layers_, n_outputs_, out_activation_, loss_, best_loss_, loss_curve_, validation_scores_, \
best_validation_score_, t_, n_iter_, n_features_in_, feature_names_in_
        As scikit-learn's (``validation_scores_`` are R² values).
    net_ : Network
        The trained backproplab network.

    Examples
    --------
    A line, ``y = 2x + 1``, learnt as scikit-learn's ``MLPRegressor`` learns it:

    >>> import numpy as np
    >>> from sklearn import neural_network
    >>> from backproplab.sklearn import MLPRegressor
    >>> X = np.random.default_rng(0).uniform(-1, 1, (200, 1))
    >>> y = 2 * X[:, 0] + 1
    >>> params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=500, random_state=0)
    >>> reg = MLPRegressor(**params).fit(X, y)
    >>> theirs = neural_network.MLPRegressor(**params).fit(X, y)
    >>> round(float(reg.predict([[0.5]])[0]), 1), bool(reg.score(X, y) > 0.99)
    (2.0, True)
    >>> reg.n_iter_ == theirs.n_iter_, all(np.allclose(a, b) for a, b in zip(reg.coefs_, theirs.coefs_))
    (True, True)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_BaseMLP._parameter_constraints, "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
        solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto", learning_rate: str = "constant",
        learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
        random_state: Any = None, tol: float = 1e-4, verbose: bool = False, warm_start: bool = False,
        momentum: float = 0.9, nesterovs_momentum: bool = True, early_stopping: bool = False,
        validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
        n_iter_no_change: float = 10, max_fun: int = 15000, init: str = "sklearn", dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:  # spelled out: scikit-learn reads the parameters from this signature
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
            momentum=momentum, nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            n_iter_no_change=n_iter_no_change, max_fun=max_fun, init=init, dropout=dropout, batch_norm=batch_norm,
        )
        self.loss = loss

    def _is_classifier(self) -> bool:
        return False

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple[Any, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError("loss='poisson' needs y >= 0 (counts or rates); y has negative values")
        self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        return X, (y[:, None] if y.ndim == 1 else y).astype(X.dtype)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on ``X`` and the targets ``y``; returns ``self``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            float64 or float32 (the network takes that dtype; lbfgs ends in float64, as scikit-learn's);
            sparse input is expanded (lbfgs multiplies a sparse enough one as it is).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row's loss (scikit-learn >= 1.7's meaning).

        Returns
        -------
        self : MLPRegressor
            From scratch, or from the current weights with ``warm_start=True``.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``X``, ``y`` (weighted by ``sample_weight``) from the current weights."""
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _score_val(self, X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None = None) -> float:
        pred = self._output(X)
        return float(r2_score(Y, pred, sample_weight=sw)) if np.isfinite(pred).all() else np.nan

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, ``(n_samples,)`` for one output, else ``(n_samples, n_outputs)``."""
        out = self._output(self._input(X))
        return out[:, 0] if out.shape[1] == 1 else out

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y`` (weighted by ``sample_weight``)."""
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))


def _with_parameters(cls: type, *sections: str) -> None:
    """Put the shared ``Parameters`` entries into ``cls``'s docstring (written once, in ``_docs``)."""
    text = "\n".join(sections).replace("\n", "\n    ")
    cls.__doc__ = cls.__doc__.replace("{loss}\n    {parameters}", text).replace("{parameters}", text)


_with_parameters(MLPClassifier, _docs.PARAMETERS)
_with_parameters(MLPRegressor, _docs.LOSS, _docs.PARAMETERS)
