"""What backproplab's two scikit-learn estimators share: the parameters, the training loops, the attributes.

``_BaseMLP`` holds scikit-learn's parameters and their validation, draws the
initial weights as scikit-learn does, and trains the network (``net_``) by
scikit-learn's rules (``_sklearn_rules``) or by L-BFGS. ``backproplab.sklearn``
adds what differs: labels and probabilities for ``MLPClassifier``, a loss choice
for ``MLPRegressor``.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import errors
from ..core.init import sklearn_params
from ..core.network import mlp
from ..train.schedules import InverseScaling, Plateau, ReduceOnPlateau
from ._rules import ACTIVATIONS, LOSSES, PARAMETERS, STOCHASTIC, make_optimizer
from .lbfgs import minimize_lbfgs

_OUTPUTS = {"softmax": "softmax", "logistic": "sigmoid", "identity": "identity"}


class DivergenceError(errors.DivergenceError, ValueError):
    """Training diverged (NaN or infinite loss): a ``ValueError``, as scikit-learn code expects, and backproplab's.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.sklearn import MLPRegressor
    >>> X = np.linspace(-1e3, 1e3, 40)[:, None]
    >>> wild = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e6, activation="identity",
    ...                     random_state=0)
    >>> try:
    ...     wild.fit(X, X[:, 0])
    ... except ValueError as exc:  # what scikit-learn code catches
    ...     print(type(exc).__name__, isinstance(exc, bp.DivergenceError), exc.epoch >= 1)
    DivergenceError True True
    """


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, training, the attributes."""

    _parameter_constraints: ClassVar[dict] = PARAMETERS

    def __init__(
        self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *, solver: str = "adam",
        alpha: float = 0.0001, batch_size: int | str = "auto", learning_rate: str = "constant",
        learning_rate_init: float = 0.001, power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
        random_state: Any = None, tol: float = 1e-4, verbose: bool = False, warm_start: bool = False,
        momentum: float = 0.9, nesterovs_momentum: bool = True, early_stopping: bool = False,
        validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
        n_iter_no_change: float = 10, max_fun: int = 15000, init: str = "sklearn", dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm

    # --- the network and scikit-learn's view of it ----------------------------------------
    def _hidden(self) -> list[int]:
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if not all(isinstance(h, (Integral, np.integer)) and not isinstance(h, bool) and h > 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        return [int(h) for h in hidden]

    def _initialize(self, sizes: list[int], rs: np.random.RandomState) -> None:
        """Build ``net_`` and reset what a first fit resets (scikit-learn's ``_initialize``)."""
        if self.solver == "lbfgs" and self.dropout:
            raise ValueError("dropout needs a stochastic solver: L-BFGS's line search needs the same loss at "
                             "every evaluation; use solver='adam' or 'sgd', or dropout=0")
        activation = ACTIVATIONS[self.activation]
        options = {"activation": activation, "output": _OUTPUTS[self.out_activation_],
                   "dropout": float(self.dropout), "batch_norm": bool(self.batch_norm)}
        if self.init == "sklearn":
            drawn = sklearn_params(rs, sizes, self.activation)  # first, as scikit-learn draws them
            seed = int(rs.randint(2**31 - 1)) if self.dropout else 0  # masks only: no draw without dropout
            self.net_ = mlp(sizes, seed=seed, init="sklearn_uniform", **options)
            for W, b, (coef, intercept) in zip(self._weights(), self._biases(), drawn, strict=True):
                W[...], b[...] = coef, intercept
        else:
            self.net_ = mlp(sizes, seed=int(rs.randint(2**31 - 1)), init=self.init, **options)
        self._bind()
        self.n_layers_ = len(sizes)
        self.n_iter_ = self.t_ = 0
        if self.solver in STOCHASTIC:
            self.loss_curve_: list[float] = []
            self._plateau = Plateau(self.n_iter_no_change, self.tol, "max" if self.early_stopping else "min")
            self.best_loss_ = None if self.early_stopping else np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._best = None

    def _weights(self) -> list[np.ndarray]:
        return [p for name, p in self.net_.params.items() if name.endswith(".W")]

    def _biases(self) -> list[np.ndarray]:
        return [p[0] for name, p in self.net_.params.items() if name.endswith(".b")]  # (1, D_out) -> (D_out,)

    def _bind(self) -> None:
        """``coefs_``/``intercepts_`` become the network's own arrays, ``(fan_in, fan_out)`` and ``(fan_out,)``."""
        self.coefs_, self.intercepts_ = self._weights(), self._biases()
        self._own = (*self.coefs_, *self.intercepts_)  # to tell a replaced entry from the bound one

    def _sync(self) -> None:
        """Take in ``coefs_``/``intercepts_`` a user has replaced (scikit-learn reads them at every predict)."""
        mine, given = self._own, (*self.coefs_, *self.intercepts_)
        if len(given) == len(mine) and all(a is b for a, b in zip(given, mine, strict=True)):
            return  # untouched, or changed in place: the network already holds the values
        if len(given) != len(mine) or len(self.coefs_) != len(self.intercepts_):
            raise ValueError(f"coefs_ and intercepts_ must hold {len(mine) // 2} arrays each, as fitted")
        for theirs, own in zip(given, mine, strict=True):
            theirs = np.asarray(theirs, dtype=np.float64)
            if theirs.shape != own.shape:
                raise ValueError(f"a coefs_/intercepts_ entry has shape {theirs.shape}, expected {own.shape}")
            own[...] = theirs
        self._bind()

    def __getstate__(self) -> dict[str, Any]:
        if hasattr(self, "net_"):
            self._sync()  # a replaced coefs_ entry is saved through the network
        return super().__getstate__()

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if hasattr(self, "net_"):
            self._bind()  # the unpickled network has new arrays (Network.__setstate__)

    def _output(self, X: np.ndarray) -> np.ndarray:
        """The output activation of the network on validated ``X``: ``(B, n_outputs_)``."""
        self._sync()
        return self.net_.predict_proba(X)

    def _input(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "net_")
        return validate_data(self, X, reset=False, dtype=np.float64)

    # --- training ---------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool) -> _BaseMLP:
        self._validate_params()
        hidden = self._hidden()
        if self.early_stopping and incremental and self.solver in STOCHASTIC:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first)
        self.n_outputs_ = Y.shape[1]
        rs = check_random_state(self.random_state)
        if first:
            self._initialize([X.shape[1], *hidden, self.n_outputs_], rs)
        else:
            self._sync()
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y)
        else:
            self._fit_stochastic(X, Y, rs, incremental)
        if not all(np.isfinite(p).all() for p in self.net_.params.values()):
            raise DivergenceError("the solver produced non-finite weights; scale or standardise the inputs",
                                  epoch=self.n_iter_, runs=(0,))
        return self

    def _fit_lbfgs(self, X: np.ndarray, Y: np.ndarray) -> None:
        result = minimize_lbfgs(self.net_, X, Y, self._loss(), l2=self.alpha / len(X), max_iter=self.max_iter,
                                max_fun=self.max_fun, tol=self.tol, verbose=bool(self.verbose))
        self.n_iter_, self.loss_ = min(result.n_iter, self.max_iter), result.loss
        if not result.converged:
            warnings.warn(f"lbfgs failed to converge after {result.n_iter} iteration(s): {result.message}. "
                          f"Increase max_iter (now {self.max_iter}) or max_fun (now {self.max_fun}), or scale "
                          "the data.", ConvergenceWarning, stacklevel=3)

    def _fit_stochastic(self, X: np.ndarray, Y: np.ndarray, rs: np.random.RandomState, incremental: bool) -> None:
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(self)
            self._adaptive = None
            if self.solver == "sgd" and self.learning_rate == "adaptive":
                self._adaptive = ReduceOnPlateau(self.n_iter_no_change, self.tol)
                self._adaptive.plateau = self._plateau  # one no-improvement count, as scikit-learn keeps
        X_val = Y_val = None
        if self.early_stopping:
            stratify = Y if self._is_classifier() and self.n_outputs_ == 1 else None
            X, X_val, Y, Y_val = train_test_split(X, Y, random_state=rs, test_size=self.validation_fraction,
                                                  stratify=stratify)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                                 "your dataset.")
        n = X.shape[0]
        if self.batch_size != "auto" and self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                          stacklevel=3)
        batch = min(200, n) if self.batch_size == "auto" else int(min(self.batch_size, n))
        self.n_iter_, order = 0, np.arange(n)
        try:
            # Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(self.max_iter):
                    if self.shuffle:  # scikit-learn reshuffles the previous epoch's order
                        # with sklearn.utils.shuffle, i.e. rs.shuffle of an arange taken as indices into
                        # `order`: the same swaps applied to `order` itself, without the argument checks
                        # that cost scikit-learn a third of a small fit
                        rs.shuffle(order)
                    start = self.net_.copy_params()  # where a diverging epoch goes back to
                    loss = self._epoch(X, Y, order if self.shuffle else None, batch)
                    if not self._end_epoch(loss, n, X_val, Y_val, start) or incremental:
                        break
                    if self.n_iter_ == self.max_iter:
                        warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                                      "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if self.early_stopping and self._best is not None:
            self.net_.set_params(self._best)  # the best epoch's parameters, as scikit-learn keeps them

    def _epoch(self, X: np.ndarray, Y: np.ndarray, order: np.ndarray | None, batch: int) -> float:
        """One pass over the mini-batches; returns the epoch's mean loss (with the L2 term)."""
        net, optimizer, loss_fn = self.net_, self._optimizer, self._loss()
        params, grads = net.params, net.grads
        weights = [name for name in params if name.endswith(".W")]
        coupled = self.solver != "adamw"  # AdamW decays the weights itself (decoupled, alpha per step)
        total = 0.0
        for start in range(0, X.shape[0], batch):
            rows = slice(start, start + batch) if order is None else order[start : start + batch]
            xb, yb = X[rows], Y[rows]
            size = xb.shape[0]
            value, dz = loss_fn.value_and_gradient(net.forward(xb, train=True), yb)
            net.backward(dz, input_grad=False)
            squares = 0.0
            for name in weights:  # L2 on the weights: alpha / (2 B) * ||W||**2 added to the loss
                W = params[name]
                squares += float(np.dot(W.ravel(), W.ravel()))
                if coupled:
                    grads[name] += (self.alpha / size) * W
            optimizer.step(params, grads)
            total += (value + 0.5 * self.alpha * squares / size) * size
        return total / X.shape[0]

    def _end_epoch(self, loss: float, n: int, X_val: Any, Y_val: Any, start: dict[str, np.ndarray]) -> bool:
        """Record the epoch, adjust the rate; go on (True) or stop. scikit-learn's order of things."""
        self.n_iter_ += 1
        self.t_ += n
        if not math.isfinite(loss):
            self.net_.set_params(start)
            if self.early_stopping and self._best is not None:
                warnings.warn(f"training diverged in epoch {self.n_iter_} (the loss became NaN or infinite); "
                              "kept the best epoch's parameters", ConvergenceWarning, stacklevel=4)
                return False
            raise DivergenceError(
                f"training diverged: the loss became NaN or infinite in epoch {self.n_iter_}; the parameters are "
                f"those of the end of epoch {self.n_iter_ - 1}. Try a smaller learning_rate_init "
                f"(now {self.learning_rate_init}) or standardise the inputs.", epoch=self.n_iter_, runs=(0,))
        self.loss_ = loss
        self.loss_curve_.append(loss)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
        if self.early_stopping:
            score = self._score_val(X_val, Y_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            stalled = self._plateau.update(score)
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best = self.net_.copy_params()
        else:
            stalled = self._plateau.update(loss)
            self.best_loss_ = min(self.best_loss_, loss)
        if self.solver == "sgd" and self.learning_rate == "invscaling":
            self._optimizer.lr = InverseScaling(self.power_t).lr_at(self.t_, self.learning_rate_init)
        if not stalled:
            return True
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
        stop = self._adaptive is None or self._adaptive.reduce(self._optimizer)
        if self.verbose:
            lowered = f" Setting learning rate to {self._optimizer.lr:f}"
            small = " Learning rate too small." if self._adaptive is not None else ""
            print(msg + (small + " Stopping." if stop else lowered))
        if not stop:
            self._plateau.reset()
        return not stop

    def _check_solver(self) -> bool:
        if self.solver not in STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} is not "
                                 "stochastic.")
        return True

    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y``; returns ``self``.

        From scratch, or from the current weights with ``warm_start=True``.
        """
        return self._fit(X, y, incremental=False)

    def _loss(self) -> Any:
        return LOSSES[self.out_activation_]()
