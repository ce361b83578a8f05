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


_EPS = np.finfo(np.float64).eps


class _SklearnLoss(Loss):
    """Base: the gradient ``(activate(z) - y) / B``; subclasses give the value from the clipped probabilities."""

    def _value(self, p: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        p = self.activate(z)  # (B, K), a new array (softmax and sigmoid make one; SquaredError copies)
        value = self._value(p, y)
        p -= y
        p /= z.shape[0]
        return value, p

    def value(self, z: np.ndarray, y: np.ndarray) -> float:
        return self._value(self.activate(z), y)

    def gradient(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.value_and_gradient(z, y)[1]


class LogLoss(_SklearnLoss):
    """Softmax cross-entropy, ``-sum_k mean_b y log p`` (scikit-learn's ``log_loss``)."""

    name, output = "sklearn_log_loss", "softmax"

    def _value(self, p: np.ndarray, y: np.ndarray) -> float:
        logp = np.log(np.clip(p, _EPS, 1 - _EPS))
        return float(-np.mean(y * logp, axis=0).sum())


class BinaryLogLoss(_SklearnLoss):
    """Logistic outputs (one for binary, ``K`` for multilabel), summed over outputs (``binary_log_loss``)."""

    name, output = "sklearn_binary_log_loss", "sigmoid"

    def _value(self, p: np.ndarray, y: np.ndarray) -> float:
        p = np.clip(p, _EPS, 1 - _EPS)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=0).sum())


class SquaredError(_SklearnLoss):
    """Half the mean squared error, ``mean_k mean_b (z - y)**2 / 2``; gradient ``(z - y) / B``.

    With several outputs the gradient is that of the *sum* over outputs (scikit-learn's),
    ``K`` times the derivative of the value; for one output they agree.
    """

    name, output, classifier = "sklearn_squared_error", "identity", False

    def activate(self, z: np.ndarray) -> np.ndarray:
        return z.copy()  # the identity would hand back z itself, which the gradient is written over

    def _value(self, p: np.ndarray, y: np.ndarray) -> float:
        return float(0.5 * np.mean((y - p) ** 2, axis=0).mean())


#: Loss by ``out_activation_``.
LOSSES: dict[str, type[Loss]] = {"softmax": LogLoss, "logistic": BinaryLogLoss, "identity": SquaredError}


class SklearnSGD(SGD):
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


class SklearnAdam(Adam):
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


def make_optimizer(est: Any) -> Optimizer:
    """The optimizer of an estimator's ``solver`` with its hyper-parameters (L2 comes with the loss)."""
    lr = est.learning_rate_init
    if est.solver == "sgd":
        # scikit-learn accepts nesterovs_momentum=True with momentum=0, where both forms are plain SGD.
        return SklearnSGD(lr, est.momentum, nesterov=bool(est.nesterovs_momentum) and est.momentum > 0)
    if est.solver == "adam":
        return SklearnAdam(lr, est.beta_1, est.beta_2, est.epsilon)
    if est.solver == "rmsprop":
        return RMSprop(lr, eps=est.epsilon)
    return AdamW(lr, est.beta_1, est.beta_2, est.epsilon, weight_decay=est.alpha)  # decoupled: see sklearn.py
