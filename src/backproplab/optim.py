"""Optimizers: update parameters in place from their gradients.

One base class handles what every optimizer shares — gradient clipping, an
option of the update, never a change to the network's stored gradients — and
each subclass computes only its update rule, stated as code in its docstring.

Clipping respects the runs axis: a parameter with a runs axis is 3-D
(``(R, ., .)``), and its global norm is computed per run, so one run's large
gradient never shrinks another run's step.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_positive_float


class Optimizer:
    """Base class.

    Parameters
    ----------
    lr : float
        Learning rate, finite and > 0.
    clip_norm : float, optional
        If set, gradients are scaled so that their global L2 norm (over all
        parameters of one run) is at most ``clip_norm``.
    clip_value : float, optional
        If set, each gradient entry is clipped to ``[-clip_value, clip_value]``
        (applied before ``clip_norm``).
    """

    def __init__(self, lr: float, *, clip_norm: float | None = None, clip_value: float | None = None) -> None:
        self.lr = check_positive_float("lr", lr)
        self.clip_norm = None if clip_norm is None else check_positive_float("clip_norm", clip_norm)
        self.clip_value = None if clip_value is None else check_positive_float("clip_value", clip_value)
        #: Per-parameter state (momentum buffers, moments, ...), keyed like the parameters.
        self.state: dict[str, dict[str, np.ndarray]] = {}
        #: Number of steps taken.
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads`` (same keys)."""
        if self.clip_value is not None:
            grads = {name: np.clip(g, -self.clip_value, self.clip_value) for name, g in grads.items()}
        if self.clip_norm is not None:
            scale = clip_scale(grads, self.clip_norm)
            grads = {name: g * scale for name, g in grads.items()}
        self.t += 1
        for name, p in params.items():
            self.update(name, p, grads[name])

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        """Apply this optimizer's rule to one parameter ``p`` (in place)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}" for k, v in (("clip_norm", self.clip_norm), ("clip_value", self.clip_value)) if v is not None
        )
        return f"{type(self).__name__}(lr={self.lr!r}{extra})"


def global_norm(grads: dict[str, np.ndarray]) -> np.ndarray | float:
    """L2 norm of all gradients together, per run: ``(R,)`` with a runs axis, else a float."""
    total = 0.0
    for g in grads.values():
        sq = g * g
        total = total + (sq.reshape(g.shape[0], -1).sum(axis=1) if g.ndim == 3 else sq.sum())
    return np.sqrt(total) if np.ndim(total) else math.sqrt(total)


def clip_scale(grads: dict[str, np.ndarray], max_norm: float) -> np.ndarray | float:
    """Factor (``<= 1``) that brings the global norm down to ``max_norm``: ``(R, 1, 1)`` or a float."""
    norm = global_norm(grads)
    scale = np.minimum(1.0, max_norm / np.maximum(norm, 1e-300))
    return scale[:, None, None] if np.ndim(scale) else float(scale)


class SGD(Optimizer):
    """Plain (mini-batch) gradient descent, the report's optimizer.

    Update rule::

        p = p - lr * g
    """

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        p -= self.lr * g
