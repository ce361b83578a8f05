"""What backproplab's two scikit-learn estimators share: the parameters, the network, training, the attributes.

``_BaseMLP`` holds scikit-learn's parameters and their validation, draws the
initial weights as scikit-learn does, and trains the network (``net_``) through
``fit`` with scikit-learn's rules (``_stochastic``, ``_rules``) or by L-BFGS.
``backproplab.sklearn`` adds what differs: labels and probabilities for
``MLPClassifier``, a loss choice for ``MLPRegressor``.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..core.init import sklearn_params
from ..core.network import mlp
from ..errors import DivergenceError
from . import _docs, _stochastic
from ._objective import FullBatch, pack, sklearn_order, unpack
from ._rules import ACTIVATIONS, LOSSES, PARAMETERS, STOCHASTIC
from .lbfgs import run_lbfgs

#: The network's output activation by scikit-learn's ``out_activation_`` (Poisson's exp is in its loss).
_OUTPUTS = {"softmax": "softmax", "logistic": "sigmoid", "identity": "identity", "exp": "identity"}
#: Parameters that shape the network: warm_start cannot continue after a change of one.
_SHAPE = ("hidden_layer_sizes", "activation", "dropout", "batch_norm")
_NONFINITE = ("Solver produced non-finite parameter weights. The input data may contain large values and need to "
              "be preprocessed.")  # scikit-learn's words, which code that catches it may match



class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, training, the attributes."""

    _parameter_constraints: ClassVar[dict] = PARAMETERS
    _doc_link_module = "backproplab"

    @property
    def _doc_link_template(self) -> str:
        """The HTML view's "?" and parameter links: our API pages, if they are hosted (``_docs.DOCS_URL``)."""
        return _docs.DOCS_URL and _docs.DOCS_URL + "generated/api/{estimator_module}.{estimator_name}.html"

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
        if not all(isinstance(h, (Integral, np.integer)) and not isinstance(h, bool) for h in hidden):
            raise ValueError(f"hidden_layer_sizes must hold whole numbers of units, got {self.hidden_layer_sizes!r}")
        if not all(h > 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")  # scikit-learn's words
        return [int(h) for h in hidden]

    def _shape(self) -> dict[str, Any]:
        return {"hidden_layer_sizes": tuple(self._hidden()), "activation": self.activation,
                "dropout": float(self.dropout), "batch_norm": bool(self.batch_norm)}

    def _check_same_network(self) -> None:
        """warm_start and partial_fit continue the fitted network: refuse a changed shape (set_params)."""
        fitted = getattr(self, "_fitted_shape", None)
        if fitted is None:
            return  # coefs_ set by hand: their shapes are the network
        now = self._shape()
        for name in _SHAPE:
            if now[name] != fitted[name]:
                raise ValueError(
                    f"{name} is {now[name]!r} but the fitted network has {fitted[name]!r}: warm_start and "
                    f"partial_fit continue that network. Set {name} back, or fit with warm_start=False to start anew.")

    def _initialize(self, sizes: list[int], rs: np.random.RandomState, dtype: np.dtype) -> None:
        """Build ``net_`` and reset what a first fit resets (scikit-learn's ``_initialize``)."""
        if self.init == "sklearn":
            drawn = sklearn_params(rs, sizes, self.activation)  # first, as scikit-learn draws them
            seed = int(rs.randint(2**31 - 1)) if self.dropout else 0  # masks only: no draw without dropout
            self._build(sizes, dtype, seed, "sklearn_uniform")
            for W, b, (coef, intercept) in zip(self._weights(), self._biases(), drawn, strict=True):
                W[...], b[...] = coef, intercept  # cast to dtype, as scikit-learn's astype
        else:
            self._build(sizes, dtype, int(rs.randint(2**31 - 1)), self.init)
        self._fitted_shape = self._shape()
        self.n_iter_ = self.t_ = 0
        if self.solver in STOCHASTIC:
            _stochastic.start(self, fresh=True)

    def _build(self, sizes: list[int], dtype: np.dtype, seed: int, init: str) -> None:
        self.net_ = mlp(sizes, seed=seed, init=init, activation=ACTIVATIONS[self.activation],
                        output=_OUTPUTS[self.out_activation_], dropout=float(self.dropout),
                        batch_norm=bool(self.batch_norm), dtype=np.dtype(dtype).name)
        self._bind()
        self.n_layers_ = len(sizes)

    def _adopt(self, dtype: np.dtype) -> None:
        """A network for ``coefs_``/``intercepts_`` set by hand before any fit (scikit-learn trains those)."""
        coefs, intercepts = list(self.coefs_), list(self.intercepts_)
        self._build([np.shape(coefs[0])[0], *(np.shape(W)[1] for W in coefs)], dtype, 0, "sklearn_uniform")
        self.coefs_, self.intercepts_ = coefs, intercepts  # not the new network's arrays: _sync copies them in
        self._sync()
        self.n_iter_, self.t_ = getattr(self, "n_iter_", 0), getattr(self, "t_", 0)

    def _retype(self, dtype: np.dtype) -> None:
        """``net_`` rebuilt in ``dtype`` holding the same state (parameters and buffers, cast)."""
        state = self.net_.state_dict()
        self._build([self.net_.n_inputs, *(W.shape[1] for W in self._weights())], dtype, 0, "sklearn_uniform")
        for name, a in self.net_.state_dict().items():
            a[...] = state[name]  # not load_state_dict: a diverged fit's NaN is for _fit to report, in its words

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
        mine, given = (*self._weights(), *self._biases()), (*self.coefs_, *self.intercepts_)
        if len(given) == len(self._own) and all(a is b for a, b in zip(given, self._own, strict=True)):
            return  # untouched, or changed in place: the network already holds the values
        if len(given) != len(mine) or len(self.coefs_) != len(self.intercepts_):
            raise ValueError(f"coefs_ and intercepts_ must hold {len(mine) // 2} arrays each, as fitted")
        for theirs, own in zip(given, mine, strict=True):
            theirs = np.asarray(theirs)
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
        """The output activation of the network on validated ``X``: ``(B, n_outputs_)``.

        A forward pass that overflows gives inf or NaN, as scikit-learn's, so that a
        diverged validation score is NaN rather than an exception.
        """
        self._sync()
        with np.errstate(over="ignore", invalid="ignore"):
            return self._loss().activate(self.net_.forward(X))

    def _input(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32))
        return _dense(X, self.net_.dtype)

    # --- training ---------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool, sample_weight: Any = None) -> _BaseMLP:
        self._validate_params()
        hidden = self._hidden()
        if self.solver == "lbfgs" and self.dropout:  # also a warm start from a network trained with dropout
            raise ValueError("dropout needs a stochastic solver: L-BFGS's line search needs the same loss at "
                             "every evaluation; use solver='adam' or 'sgd', or dropout=0")
        if self.early_stopping and incremental and self.solver in STOCHASTIC:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        if not first:
            self._check_same_network()
        X, Y = self._validate_input(X, y, incremental, reset=first)
        sw = None if sample_weight is None else _check_sample_weight(sample_weight, X)  # float64 unless float32
        dtype = X.dtype if first or not hasattr(self, "net_") else self.net_.dtype
        X, Y = X.astype(dtype, copy=False), Y.astype(dtype)  # sparse stays sparse: lbfgs may multiply it so
        self.n_outputs_ = Y.shape[1]
        rs = check_random_state(self.random_state)
        if first:
            self._initialize([X.shape[1], *hidden, self.n_outputs_], rs, dtype)
        elif not hasattr(self, "net_"):
            self._adopt(dtype)
        else:
            self._sync()
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, sw)
        else:
            if not first:
                _stochastic.start(self, fresh=False)
            _stochastic.train(self, _dense(X, dtype), Y, None if sw is None else sw.astype(dtype), rs, incremental)
        if not all(np.isfinite(p).all() for p in self.net_.params.values()):
            raise self._divergence(self.n_iter_)
        return self

    def _divergence(self, epoch: int) -> DivergenceError:
        return DivergenceError(
            f"{_NONFINITE} The loss became NaN or infinite in epoch {epoch}; the parameters are those of the end "
            f"of epoch {epoch - 1}. Try a smaller learning_rate_init (now {self.learning_rate_init}) or standardise "
            "the inputs.", epoch=epoch, runs=(0,))

    def _fit_lbfgs(self, X: Any, Y: np.ndarray, sw: np.ndarray | None) -> None:
        """scikit-learn's ``_fit_lbfgs``: SciPy on its objective (``_objective``), ``coefs_`` from SciPy's vector.

        scikit-learn unpacks SciPy's final float64 vector into ``coefs_``, so a float32
        fit ends with float64 coefficients (and float64 predictions); ``net_`` becomes
        a float64 network holding that vector, unrounded.
        """
        objective = FullBatch(self.net_, X, Y, self._loss(alpha=self.alpha), sw)
        x, result = run_lbfgs(objective, pack(objective.params), max_iter=self.max_iter, max_fun=self.max_fun,
                              tol=self.tol, verbose=bool(self.verbose))
        if x.dtype != self.net_.dtype:
            self._retype(x.dtype)
        unpack(sklearn_order(self.net_), x)
        self.n_iter_, self.loss_ = min(result.n_iter, self.max_iter), result.loss
        if not result.converged:
            warnings.warn(f"lbfgs failed to converge after {result.n_iter} iteration(s): {result.message}. "
                          f"Increase max_iter (now {self.max_iter}) or max_fun (now {self.max_fun}), or scale "
                          "the data.", ConvergenceWarning, stacklevel=3)

    def _loss_grad_lbfgs(self, packed: np.ndarray, X: Any, y: Any, sample_weight: Any = None,
                         *_buffers: Any) -> tuple[float, np.ndarray]:
        """scikit-learn's objective and gradient at ``packed`` (its order: every coef, then every intercept).

        The name and arguments are scikit-learn's (its gradient test calls it; the buffers it
        passes are not needed). The network is left holding ``packed``.
        """
        self._sync()
        dtype = self.net_.dtype
        X = X.astype(dtype, copy=False) if sp.issparse(X) else np.asarray(X, dtype=dtype)
        Y = np.asarray(y, dtype=dtype).reshape(X.shape[0], -1)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
        return FullBatch(self.net_, X, Y, self._loss(alpha=self.alpha), sw)(packed)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # accepted: expanded to a dense array, or multiplied as it is (lbfgs)
        return tags

    def _check_solver(self) -> bool:
        if self.solver not in STOCHASTIC:
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} is not "
                                 "stochastic.")
        return True

    def _loss(self, alpha: float = 0.0, weighted: bool = False) -> Any:
        weights = self._weights() if alpha else None
        return LOSSES[self.out_activation_](weights, alpha, weighted)


def _dense(X: Any, dtype: Any) -> np.ndarray:
    """``X`` as a dense array of ``dtype``: a sparse matrix is expanded (``n_samples * n_features`` values)."""
    if sp.issparse(X):
        return X.toarray().astype(dtype, copy=False)
    return np.asarray(X, dtype=dtype)
