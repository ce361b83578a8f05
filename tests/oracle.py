"""An independent reference: the same networks and losses written for the `autograd` package.

Nothing here imports backproplab's math: activations and losses are written
from their textbook definitions (overflow-prone where that does not matter for
the moderate values tests use), and autograd differentiates them. Tests
compare backproplab's backpropagated gradients with these.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad

ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "tanh": anp.tanh,
    "relu": lambda z: anp.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: anp.where(z > 0, z, 0.01 * z),
    "identity": lambda z: z,
}


def _softmax(z):
    e = anp.exp(z - anp.max(z, axis=-1, keepdims=True))
    return e / anp.sum(e, axis=-1, keepdims=True)


def _bce(z, y):
    # -log(sigmoid(z)) = log(1 + e^-z) and -log(1 - sigmoid(z)) = log(1 + e^z), via logaddexp so that
    # confident logits (|z| ~ 20, common with ReLU nets) do not lose precision in 1 - p.
    return anp.mean(y * anp.logaddexp(0.0, -z) + (1 - y) * anp.logaddexp(0.0, z), axis=(-2, -1))


def _cross_entropy(z, y):
    return anp.mean(-anp.sum(y * anp.log(_softmax(z)), axis=-1), axis=-1)


def _mse(z, y):
    return anp.mean((z - y) ** 2, axis=(-2, -1))


LOSSES = {"binary_cross_entropy": _bce, "cross_entropy": _cross_entropy, "mse": _mse}


def mlp_loss(weights: list, X: np.ndarray, Y: np.ndarray, activation: str, loss: str):
    """Sum over runs of the mean loss of an MLP given ``[W0, b0, W1, b1, ...]``."""
    a = X
    n_layers = len(weights) // 2
    for i in range(n_layers):
        W, b = weights[2 * i], weights[2 * i + 1]
        z = anp.matmul(a, W) + b
        a = ACTIVATIONS[activation](z) if i < n_layers - 1 else z
    return anp.sum(LOSSES[loss](a, Y))


def mlp_gradients(weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, activation: str, loss: str):
    """Autograd's gradient of ``mlp_loss`` w.r.t. every array in ``weights``."""
    return grad(mlp_loss)(list(weights), X, Y, activation, loss)
