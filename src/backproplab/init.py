"""Weight initialisation schemes, by name.

He et al. 2015 ("Delving deep into rectifiers") scale the weights by
``sqrt(2 / fan_in)``, the report's choice; Glorot & Bengio 2010 use
``sqrt(2 / (fan_in + fan_out))``. The uniform variants draw from
``[-limit, limit]`` with the same variance. Biases always start at zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._checks import check_choice

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


INITIALIZERS: dict[str, Initializer] = {
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
}


def get_initializer(name: str) -> Initializer:
    """Return the initializer registered under ``name`` (raises listing the known names)."""
    return INITIALIZERS[check_choice("init", name, INITIALIZERS)]
