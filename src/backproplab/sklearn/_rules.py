"""scikit-learn's rules for its MLPs: parameter constraints, losses and update rules, for ``backproplab.sklearn``.

The math is backproplab's (``losses``, ``optim``); scikit-learn writes three
things its own way, and a drop-in that wants scikit-learn's numbers follows it:

- losses: every gradient w.r.t. the logits is ``(p - y) / B``, also for several
  logistic outputs (backproplab's binary cross-entropy divides by ``B * K``) and
  for squared error (half the squared error, so no factor 2); values are taken
  from probabilities clipped to ``[eps, 1 - eps]``.
- SGD keeps the learning rate inside the velocity (``v = momentum * v - lr * g``),
  which differs from backproplab's ``SGD`` once the rate changes (invscaling, adaptive).
- Adam folds the bias corrections into the step size and adds ``epsilon`` to
  ``sqrt(v)`` (Kingma & Ba's Section 2 variant; backproplab's ``Adam`` is Algorithm 1).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy.special import expit, xlogy
from sklearn.utils._param_validation import Interval, Options, StrOptions

from ..core.init import INITIALIZERS
from ..core.losses import Loss
from ..core.optim import SGD, Adam, AdamW, Optimizer, RMSprop

#: scikit-learn's ``activation`` names -> backproplab's (``leaky_relu`` is backproplab's own).
ACTIVATIONS = {"logistic": "sigmoid", "tanh": "tanh", "relu": "relu", "identity": "identity",
               "leaky_relu": "leaky_relu"}
#: Solvers that train by mini-batches (``partial_fit`` needs one); ``"lbfgs"`` is the other.
STOCHASTIC = ("sgd", "adam", "rmsprop", "adamw")

#: scikit-learn's ``_parameter_constraints`` for the MLPs, plus backproplab's parameters: validated by
#: ``BaseEstimator._validate_params`` with scikit-learn's own messages and exception types.
PARAMETERS: dict[str, list] = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "solver": [StrOptions({"lbfgs", *STOCHASTIC})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "init": [StrOptions({"sklearn", *INITIALIZERS})],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}


class _SklearnLoss(Loss):
    """scikit-learn's objective on a batch: the mean loss (weighted by ``sample_weight``) plus the L2 term.

    ``value = average_b(loss_b, weights=sw) + alpha / (2 * sw_sum) * sum(||W||**2)`` and
    ``dL/dz = sw * (activate(z) - y) / sw_sum``, with ``sw_sum`` the batch's rows (or summed
    weights). The L2 term's gradient, ``alpha / sw_sum * W``, is not a gradient w.r.t. the
    logits: the optimizer adds it (``_CoupledL2``) from ``l2_factor``, which every call sets.
    With ``weighted`` the targets carry each row's weight as a last column, so that ``fit``'s
    batches take the weights along with the rows.
    """

    classifier = False  # fit counts no accuracy: the targets may carry a weight column

    def __init__(self, weights: list[np.ndarray] | None = None, alpha: float = 0.0, weighted: bool = False) -> None:
        self.weights, self.alpha, self.weighted = list(weights or ()), float(alpha), weighted
        self.l2_factor = 0.0

    def _value(self, p: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> Any:
        """The mean loss of the batch (a NumPy scalar, in scikit-learn's precision), without the L2 term."""
        raise NotImplementedError

    def prepare_targets(self, y: Any, n_outputs: int, dtype: Any = "float64", x_ndim: int = 2) -> np.ndarray:
        y = np.asarray(y, dtype=dtype)  # prepared by the estimator: (B, K), plus the weight column
        if y.ndim != 2 or y.shape[1] != n_outputs + self.weighted:
            raise ValueError(f"y has shape {y.shape}; expected (n_samples, {n_outputs + self.weighted})")
        return y

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        sw = None
        if self.weighted:
            y, sw = y[:, :-1], y[:, -1]
        value, delta, total = self.value_and_delta(z, y, sw)
        delta /= total
        return float(value), delta

    def value_and_delta(self, z: np.ndarray, y: np.ndarray,
                        sw: np.ndarray | None = None) -> tuple[Any, np.ndarray, Any]:
        """The value, scikit-learn's output delta ``sw * (activate(z) - y)`` (not divided) and ``sw_sum``.

        scikit-learn's ``_backprop`` divides the gradients by ``sw_sum`` after the
        products (``(a.T @ delta + alpha * W) / sw_sum``); its L-BFGS objective
        (``sklearn._objective``) does the same with this delta. The value is a NumPy
        scalar of scikit-learn's precision: the L2 term is summed in the weights'
        dtype and added to the loss as scikit-learn adds it.
        """
        total = z.shape[0] if sw is None else sw.sum()
        p = self.activate(z)  # (B, K), a new array (softmax, sigmoid and exp make one; the identity copies)
        value = self._value(p, y, sw)
        if self.alpha:
            squares = 0
            for W in self.weights:
                squares = squares + np.dot(W.ravel(), W.ravel())  # a NumPy scalar of W's dtype, as scikit-learn's
            value = value + (0.5 * self.alpha) * squares / total
            self.l2_factor = self.alpha / total
        p -= y
        if sw is not None:
            p *= sw[:, None]
        return value, p, total

    def value(self, z: np.ndarray, y: np.ndarray) -> float:
        return self.value_and_gradient(z, y)[0]

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.value_and_gradient(z, y)[1]


def _clipped(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(p.dtype).eps  # scikit-learn clips at the probabilities' own precision
    return np.clip(p, eps, 1 - eps)


class LogLoss(_SklearnLoss):
    """Softmax cross-entropy, ``-sum_k average_b y log p`` (scikit-learn's ``log_loss``)."""

    name, output = "sklearn_log_loss", "softmax"

    def _value(self, p: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> Any:
        # y log p with p clipped away from 0 is finite, so this is scikit-learn's xlogy, and cheaper; xlogy
        # takes scikit-learn's boolean y and a float32 p to float64, so the logarithms are float64
        return -np.average(y * np.log(_clipped(p), dtype=np.float64), weights=sw, axis=0).sum()


class BinaryLogLoss(_SklearnLoss):
    """Logistic outputs (one for binary, ``K`` for multilabel), summed over outputs (``binary_log_loss``)."""

    name, output = "sklearn_binary_log_loss", "sigmoid"

    def activate(self, z: np.ndarray) -> np.ndarray:
        # scikit-learn's logistic is SciPy's expit; backproplab's sigmoid, 0.5 + 0.5 * tanh(z / 2), differs in the
        # last bits, which L-BFGS in float32 carries to 4e-5 in 20 iterations
        return expit(z)

    def _value(self, p: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> Any:
        p = _clipped(p)  # 1 - p in p's dtype, its logarithm in float64: scikit-learn's xlogy(1 - y, 1 - p)
        logs = y * np.log(p, dtype=np.float64) + (1 - y) * np.log(1 - p, dtype=np.float64)
        return -np.average(logs, weights=sw, axis=0).sum()


class SquaredError(_SklearnLoss):
    """Half the mean squared error, ``mean_k average_b (z - y)**2 / 2``; gradient ``(z - y) / B``.

    With several outputs the gradient is that of the *sum* over outputs (scikit-learn's),
    ``K`` times the derivative of the value; for one output they agree.
    """

    name, output = "sklearn_squared_error", "identity"

    def activate(self, z: np.ndarray) -> np.ndarray:
        return z.copy()  # the identity would hand back z itself, which the gradient is written over

    def _value(self, p: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> Any:
        return 0.5 * np.average((y - p) ** 2, weights=sw, axis=0).mean()


class PoissonLoss(_SklearnLoss):
    """Half the Poisson deviance with a log link: ``p = exp(z)``, ``sum_k average_b (y log(y / p) - y + p)``.

    The network's output is the identity (``z = log p``); ``activate`` is the exponential,
    so the gradient w.r.t. ``z`` is ``p - y``, as for the canonical pairs above.
    """

    name, output = "sklearn_poisson", "identity"

    def activate(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def _value(self, p: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> Any:
        return np.average(xlogy(y, y / p) - y + p, weights=sw, axis=0).sum()


#: Loss by ``out_activation_``.
LOSSES: dict[str, type[_SklearnLoss]] = {"softmax": LogLoss, "logistic": BinaryLogLoss, "identity": SquaredError,
                                         "exp": PoissonLoss}


class _CoupledL2:
    """Adds scikit-learn's L2 gradient ``l2_factor * W`` (from the loss of the same batch) to the weights'.

    ``objective`` is the ``_SklearnLoss`` whose last call set ``l2_factor``; ``weight_names``
    the ``Dense`` weights (biases are not penalised). Nothing is added while ``objective`` is None.
    """

    objective: _SklearnLoss | None = None
    weight_names: tuple[str, ...] = ()

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        if self.objective is not None and self.objective.alpha:
            factor = self.objective.l2_factor
            for name in self.weight_names:
                grads[name] += factor * params[name]  # in place: the next backward overwrites it
        super().step(params, grads)  # type: ignore[misc]

    @property
    def learning_rate(self) -> float:
        """The current rate, under scikit-learn's name (``_optimizer.learning_rate``)."""
        return self.lr  # type: ignore[attr-defined]


class SklearnSGD(_CoupledL2, SGD):
    """scikit-learn's SGD: the rate lives in the velocity.

    Update rule::

        v = momentum * v - lr * g
        p = p + v                             # nesterov=False
        p = p + momentum * v - lr * g         # nesterov=True
    """

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        v = self._buffer(name, "velocity", p)
        v *= self.momentum
        v -= self.lr * g
        p += self.momentum * v - self.lr * g if self.nesterov else v

    def step_vector(self, p: np.ndarray, g: np.ndarray) -> bool:
        return False  # the velocity is per parameter


class SklearnAdam(_CoupledL2, Adam):
    """scikit-learn's Adam: the bias corrections in the step size, ``eps`` added to ``sqrt(v)``.

    Update rule (``t`` counts steps from 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        p = p - lr_t * m / (sqrt(v) + eps)

    which is backproplab's ``Adam`` with an epsilon of ``eps / sqrt(1 - beta2**t)``.
    """

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        m, v = self._buffer(name, "m", p), self._buffer(name, "v", p)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        p += -lr_t * m / (np.sqrt(v) + self.eps)


class SklearnRMSprop(_CoupledL2, RMSprop):
    """backproplab's ``RMSprop`` with scikit-learn's L2 term (``alpha``) in the gradient."""


class SklearnAdamW(_CoupledL2, AdamW):
    """backproplab's ``AdamW``: ``alpha`` is its decoupled weight decay, so no L2 term is coupled in."""


def make_optimizer(est: Any) -> Optimizer:
    """The optimizer of an estimator's ``solver`` with its hyper-parameters (L2 comes with the loss)."""
    lr = est.learning_rate_init
    if est.solver == "sgd":
        # scikit-learn accepts nesterovs_momentum=True with momentum=0, where both forms are plain SGD.
        return SklearnSGD(lr, est.momentum, nesterov=bool(est.nesterovs_momentum) and est.momentum > 0)
    if est.solver == "adam":
        return SklearnAdam(lr, est.beta_1, est.beta_2, est.epsilon)
    if est.solver == "rmsprop":
        return SklearnRMSprop(lr, eps=est.epsilon)
    return SklearnAdamW(lr, est.beta_1, est.beta_2, est.epsilon, weight_decay=est.alpha)  # decoupled
