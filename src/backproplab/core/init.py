"""Weight initialisation schemes, by name.

He et al. 2015 ("Delving deep into rectifiers") scale the weights by
``sqrt(2 / fan_in)``, the report's choice; Glorot & Bengio 2010 use
``sqrt(2 / (fan_in + fan_out))``. The uniform variants draw from
``[-limit, limit]`` with the same variance. Biases always start at zero.

scikit-learn's ``MLPClassifier``/``MLPRegressor`` draw uniformly on ``[-limit, limit]`` with
``limit = sqrt(factor / (fan_in + fan_out))``, ``factor = 2`` for a logistic hidden
activation and 6 otherwise (Glorot & Bengio's bound), for the biases too:
``sklearn_uniform`` (factor 6, the values of ``glorot_uniform``), ``sklearn_uniform_logistic``
(factor 2) and ``sklearn_params``, which draws a whole network's weights and biases in
scikit-learn's order, so that a ``numpy.random.RandomState(seed)`` gives scikit-learn's
own initial parameters for ``random_state=seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from .._checks import check_choice

Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int], np.ndarray]


def he_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Normal with standard deviation ``sqrt(2 / fan_in)``."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)


def he_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Uniform on ``[-limit, limit]`` with ``limit = sqrt(6 / fan_in)``."""
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


def glorot_normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Normal with standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Uniform on ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))``."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


def sklearn_bound(fan_in: int, fan_out: int, activation: str = "relu") -> float:
    """scikit-learn's bound ``sqrt(factor / (fan_in + fan_out))``: factor 2 for ``"logistic"``, else 6."""
    factor = 2.0 if activation in ("logistic", "sigmoid") else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


def sklearn_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """scikit-learn's draw for ReLU, tanh and identity: uniform, ``limit = sqrt(6 / (fan_in + fan_out))``."""
    limit = sklearn_bound(fan_in, fan_out)
    return rng.uniform(-limit, limit, shape)


def sklearn_uniform_logistic(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    """scikit-learn's draw for a logistic hidden activation: uniform, ``limit = sqrt(2 / (fan_in + fan_out))``."""
    limit = sklearn_bound(fan_in, fan_out, "logistic")
    return rng.uniform(-limit, limit, shape)


def sklearn_params(
    rng: np.random.Generator | np.random.RandomState, sizes: Sequence[int], activation: str = "relu"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Initial ``(W, b)`` of every layer as scikit-learn's ``MLPClassifier._init_coef`` draws them.

    Layer by layer, ``W`` ``(fan_in, fan_out)`` then ``b`` ``(fan_out,)`` from one
    ``rng.uniform(-limit, limit, ...)`` stream with ``sklearn_bound`` (the hidden
    ``activation`` sets the factor for every layer, the output's too, as in
    scikit-learn). With ``numpy.random.RandomState(seed)`` these are scikit-learn's
    values for ``random_state=seed``, bit for bit.
    """
    out = []
    for fan_in, fan_out in pairwise(sizes):
        limit = sklearn_bound(fan_in, fan_out, activation)
        W = rng.uniform(-limit, limit, (fan_in, fan_out))  # (D_in, D_out)
        b = rng.uniform(-limit, limit, fan_out)  # (D_out,)
        out.append((W, b))
    return out


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "sklearn_uniform": sklearn_uniform,
    "sklearn_uniform_logistic": sklearn_uniform_logistic,
}


def get_initializer(name: str) -> Initializer:
    """Return the initializer registered under ``name`` (raises listing the known names)."""
    return INITIALIZERS[check_choice("init", name, INITIALIZERS)]
