"""Central differences of whole arrays against an upstream gradient (CS231n style).

Kept independent of ``backproplab.core.gradcheck`` so the layer tests do not rest on
the code they help to verify.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Gradient of ``sum(f() * dout)`` w.r.t. ``x``, perturbing ``x`` in place."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        original = x[i]
        x[i] = original + h
        plus = np.sum(f() * dout)
        x[i] = original - h
        minus = np.sum(f() * dout)
        x[i] = original
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def assert_matches_numeric(analytic: np.ndarray, numeric: np.ndarray) -> None:
    """Analytic and numerical gradients agree to the accuracy central differences allow.

    With ``h = 1e-6`` in float64 each numerical entry carries a rounding error of
    about 1e-10 times the scale of the function, so entries are compared with a
    relative tolerance of 1e-6 plus an absolute one of 1e-8; a wrong derivative
    misses by the size of the gradient itself.
    """
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
