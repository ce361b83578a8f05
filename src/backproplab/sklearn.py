"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` backed by backproplab.

They follow scikit-learn's conventions (constructor parameters stored as given,
learned attributes ending in ``_``, ``fit`` returning ``self``) and pass its own
``check_estimator`` suite, so they drop into ``Pipeline``, ``cross_val_score``
and ``GridSearchCV``. Parameter names mirror ``sklearn.neural_network`` where the
idea is the same:

=====================  ==================================================
``hidden_layer_sizes``  widths of the hidden layers
``activation``          ``"relu"``, ``"tanh"``, ``"logistic"`` (sigmoid), ``"identity"``, ``"leaky_relu"``
``solver``              ``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``
``alpha``               L2 penalty ``alpha / 2 * ||W||**2`` per batch, as scikit-learn:
                        weight decay ``g += alpha / batch_size * p`` (on biases too)
``batch_size``          ``"auto"`` = ``min(200, n_samples)``
``learning_rate_init``, ``max_iter`` (epochs), ``shuffle``, ``random_state``,
``tol``, ``n_iter_no_change``, ``momentum``, ``nesterovs_momentum``,
``beta_1``, ``beta_2``, ``epsilon``, ``early_stopping``, ``validation_fraction``
=====================  ==================================================

plus backproplab's own ``dropout`` and ``batch_norm``. Stopping follows
scikit-learn: without ``early_stopping`` training ends when the training loss
has not improved by ``tol`` for ``n_iter_no_change`` epochs; with it, a
stratified ``validation_fraction`` is held out, its score (accuracy, or R²) is
recorded in ``validation_scores_`` each epoch, and the best epoch's parameters
are restored. ``loss_curve_`` holds the training loss per epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .early_stopping import EarlyStopping
from .metrics import r2_score
from .network import Network, mlp
from .optim import SGD, Adam, AdamW, Optimizer, RMSprop
from .training import Callback, FitState, fit

_ACTIVATIONS = {"logistic": "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu",
                "identity": "identity", "leaky_relu": "leaky_relu"}


class _ValidationScore(Callback):
    """Records the estimator's score (accuracy or R²) on the held-out part after every epoch."""

    def __init__(self, X_val: np.ndarray, y_val: np.ndarray, classifier: bool) -> None:
        self.X_val, self.y_val, self.classifier = X_val, y_val, classifier
        self.scores: list[float] = []

    def on_epoch_end(self, state: FitState) -> None:
        if self.classifier:
            self.scores.append(float(state.history["val_accuracy"][-1]))
        else:
            self.scores.append(float(r2_score(self.y_val, state.net.predict(self.X_val))))


class _BaseMLP(BaseEstimator):
    """Shared fitting logic; subclasses set the output, the targets and ``predict``."""

    _output = ""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.001,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | None = None,
        tol: float = 1e-4,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.batch_norm = batch_norm

    # --- pieces ---------------------------------------------------------------------------------
    def _optimizer(self, batch: int) -> Optimizer:
        lr, wd = self.learning_rate_init, self.alpha / batch  # scikit-learn divides the penalty by the batch size
        if self.solver == "sgd":
            return SGD(lr, self.momentum, nesterov=self.nesterovs_momentum and self.momentum > 0, weight_decay=wd)
        if self.solver == "adam":
            return Adam(lr, self.beta_1, self.beta_2, self.epsilon, weight_decay=wd)
        if self.solver == "adamw":
            return AdamW(lr, self.beta_1, self.beta_2, self.epsilon, weight_decay=wd)
        if self.solver == "rmsprop":
            return RMSprop(lr, eps=self.epsilon, weight_decay=wd)
        raise ValueError(f"unknown solver {self.solver!r}; known: adam, adamw, rmsprop, sgd")

    def _sizes(self, n_in: int, n_out: int) -> list[int]:
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        if not all(isinstance(h, (int, np.integer)) and h > 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        return [n_in, *hidden, n_out]

    def _fit(self, X: np.ndarray, targets: np.ndarray, n_out: int, classifier: bool) -> _BaseMLP:
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; known: {', '.join(sorted(_ACTIVATIONS))}")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha >= 0:
            raise ValueError(f"alpha must be a number >= 0, got {self.alpha!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        rng = check_random_state(self.random_state)
        seed_net, seed_fit, seed_split = (int(s) for s in rng.randint(0, 2**31 - 1, size=3))
        validation, callbacks, scorer = None, [], None
        X_fit, y_fit = X, targets
        if self.early_stopping:
            try:  # stratified when every class can be split, as scikit-learn's MLP does
                X_fit, X_val, y_fit, y_val = train_test_split(
                    X, targets, test_size=self.validation_fraction, random_state=seed_split,
                    stratify=targets if classifier else None,
                )
            except ValueError:
                X_fit, X_val, y_fit, y_val = train_test_split(
                    X, targets, test_size=self.validation_fraction, random_state=seed_split
                )
            validation = (X_val, y_val)
            scorer = _ValidationScore(X_val, y_val, classifier)
            callbacks.append(scorer)
            stopper = EarlyStopping("val_accuracy" if classifier else "val_loss", self.n_iter_no_change, self.tol)
        else:
            stopper = EarlyStopping("loss", self.n_iter_no_change, self.tol, restore_best=False)
        n = X_fit.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else self.batch_size
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}")
        optimizer = self._optimizer(int(min(batch, n)))
        net = mlp(
            self._sizes(X.shape[1], n_out), activation=_ACTIVATIONS[self.activation], output=self._output,
            seed=seed_net, dropout=self.dropout, batch_norm=self.batch_norm,
        )
        history = fit(
            net, X_fit, y_fit, optimizer=optimizer, epochs=self.max_iter, batch_size=int(min(batch, n)),
            shuffle=self.shuffle, seed=seed_fit, progress=False, callbacks=callbacks, validation=validation,
            early_stopping=stopper,
        )
        self.net_: Network = net
        self.history_ = history
        self.loss_curve_ = [float(v) for v in history["loss"]]
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = None if self.early_stopping else float(np.min(history["loss"]))
        self.validation_scores_ = scorer.scores if scorer else None
        self.best_validation_score_ = max(scorer.scores) if scorer else None
        self.n_iter_ = history.epochs
        self.t_ = history.epochs * n  # training samples seen, as scikit-learn counts
        self.n_layers_ = len(self._sizes(1, 1))
        self.n_outputs_ = n_out
        self.out_activation_ = {"softmax": "softmax", "identity": "identity"}[self._output]
        return self

    def _logits_input(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "net_")
        return validate_data(self, X, reset=False, dtype=np.float64)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: softmax output, cross-entropy loss (binary problems use 2 units).

    See the module docstring for the parameters. Attributes after ``fit``:
    ``classes_``, ``net_`` (the ``Network``), ``history_``, ``loss_curve_``,
    ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``n_features_in_``.
    """

    _output = "softmax"

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            only = self.classes_[0]
            raise ValueError(f"MLPClassifier needs samples of at least 2 classes; y has only one class: {only!r}")
        return self._fit(X, encoded.astype(np.int64), len(self.classes_), classifier=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        X = self._logits_input(X)  # first: it raises NotFittedError before net_ is touched
        return self.net_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, ``(n_samples,)``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of ``predict_proba`` (a tiny floor keeps it finite)."""
        return np.log(np.maximum(self.predict_proba(X), np.finfo(np.float64).tiny))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: identity output, mean squared error. ``y`` may have several columns.

    See the module docstring for the parameters. Attributes after ``fit`` as for
    ``MLPClassifier`` (without ``classes_``); ``validation_scores_`` are R² values.
    """

    _output = "identity"

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y`` ``(n_samples,)`` or ``(n_samples, K)``."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._y_1d = y.ndim == 1
        Y = y[:, None] if y.ndim == 1 else y
        return self._fit(X, Y.astype(np.float64), Y.shape[1], classifier=False)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, ``(n_samples,)`` if fitted on 1-D ``y``, else ``(n_samples, K)``."""
        X = self._logits_input(X)
        out = self.net_.predict(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
