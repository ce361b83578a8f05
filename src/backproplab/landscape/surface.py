"""The loss on a plane and along a line through parameter space.

``plane`` evaluates ``L(theta + alpha d1 + beta d2)`` on a ``steps x steps``
grid, ``interpolate`` evaluates ``L((1 - t) theta_a + t theta_b)``; both send
every point through the network at once on the runs axis (``points.evaluate``)
and leave the networks unchanged. The directions are used exactly as given:
normalising them is the job of the helpers that make them
(``random_directions``, ``pca_directions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_positive_float, check_positive_int
from ..core.losses import Loss
from ..core.network import Network, check_data
from .hessian import check_memory
from .points import as_direction, evaluate, flatten

#: The largest grid ``plane`` evaluates (steps x steps points per run): 1001 x 1001.
MAX_STEPS = 1001


@dataclass
class Plane:
    """The loss on a plane: ``loss[..., i, j]`` at ``theta + alphas[j] d1 + betas[i] d2`` (rows are beta, as images).

    Attributes
    ----------
    alphas, betas : ndarray ``(steps,)``
    loss, accuracy : ndarray ``(steps, steps)``, or ``(R, steps, steps)`` with a runs axis
        Accuracy is NaN for a regression loss.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.landscape import plane, random_directions
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> p = plane(net, X, y, *random_directions(net), span=0.5, steps=3)
    >>> p.alphas, p.loss.shape, p.accuracy[1, 1]  # the centre: the network itself
    (array([-0.5,  0. ,  0.5]), (3, 3), np.float64(0.5))
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray


@dataclass
class Line:
    """The loss along ``(1 - t) theta_a + t theta_b``: ``loss[..., k]`` at ``ts[k]``.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.landscape import interpolate
    >>> X, y = logic_table("xor")
    >>> line = interpolate(bp.mlp([2, 4, 1], seed=0), bp.mlp([2, 4, 1], seed=1), X, y, steps=3)
    >>> line.ts, line.loss.shape
    (array([0. , 0.5, 1. ]), (3,))
    """

    ts: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray


def plane(
    net: Network, X: Any, y: Any, d1: Any, d2: Any, span: float = 1.0, steps: int = 51,
    loss: str | Loss | None = None,
) -> Plane:
    """The loss (and accuracy) at ``theta + alpha d1 + beta d2``, ``alpha, beta`` in ``linspace(-span, span, steps)``.

    Parameters
    ----------
    net : Network
        The centre ``theta`` (its current parameters); left unchanged.
    X, y : array-like
        Data as for ``loss_and_gradients``.
    d1, d2 : array-like or dict
        Directions, flat ``(P,)`` in the order of ``flatten(net)`` (``(R, P)`` with a
        runs axis), or shaped like ``net.params``; used as given (not normalised).
    span : float, default 1
    steps : int, default 51
        Points per axis (odd, so the centre is on the grid).
    loss : str or Loss, optional

    Returns
    -------
    Plane

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.landscape import plane, random_directions
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> d1, d2 = random_directions(net, seed=0)
    >>> p = plane(net, X, y, d1, d2, span=1.0, steps=5)
    >>> p.loss.shape, p.alphas
    ((5, 5), array([-1. , -0.5,  0. ,  0.5,  1. ]))
    >>> loss, _ = bp.loss_and_gradients(net, X, y)
    >>> bool(abs(p.loss[2, 2] - loss) < 1e-12)  # the centre is the network itself
    True
    """
    check_data(net, X, y, loss)
    d1, d2 = as_direction(net, d1, "d1"), as_direction(net, d2, "d2")
    span = check_positive_float("span", span)
    steps = check_positive_int("steps", steps, minimum=2)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS} (a {steps} x {steps} grid), got {steps}")
    R, P = net.runs or 1, d1.shape[-1]
    check_memory(f"a {steps} x {steps} plane of {P:,} parameters" + (f" x {R} runs" if net.runs else ""),
                 3 * 8 * R * steps * steps * P)  # the points, and two temporaries of their size while summing
    grid = np.linspace(-span, span, steps)
    theta = flatten(net).reshape(net.runs or 1, -1)  # (R, P)
    d1, d2 = d1.reshape(theta.shape), d2.reshape(theta.shape)
    beta, alpha = np.meshgrid(grid, grid, indexing="ij")  # (S, S): rows beta, columns alpha
    points = (theta[:, None, :] + alpha.reshape(1, -1, 1) * d1[:, None, :]
              + beta.reshape(1, -1, 1) * d2[:, None, :])  # (R, S*S, P)
    values = evaluate(net, X, y, points.reshape(-1, P), loss, run=np.repeat(np.arange(R), steps * steps))
    shape = (R, steps, steps) if net.runs else (steps, steps)
    return Plane(grid, grid.copy(), values.loss.reshape(shape), values.accuracy.reshape(shape))


def interpolate(net_a: Network, net_b: Network, X: Any, y: Any, steps: int = 51,
                loss: str | Loss | None = None) -> Line:
    """The loss along the straight line ``(1 - t) theta_a + t theta_b``, ``t`` in ``linspace(0, 1, steps)``.

    Parameters
    ----------
    net_a, net_b : Network
        The same architecture (and runs axis); both left unchanged. Batch norm's
        buffers are ``net_a``'s.
    X, y : array-like
    steps : int, default 51
    loss : str or Loss, optional

    Returns
    -------
    Line
        ``loss`` ``(steps,)`` or ``(R, steps)``.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.landscape import interpolate
    >>> X, y = logic_table("xor")
    >>> start, end = bp.mlp([2, 8, 1], seed=0), bp.mlp([2, 8, 1], seed=0)
    >>> _ = bp.fit(end, X, y, epochs=300, progress=False)
    >>> line = interpolate(start, end, X, y, steps=11)
    >>> line.ts[[0, -1]], bool(line.loss[-1] < line.loss[0])
    (array([0., 1.]), True)
    """
    if not isinstance(net_b, Network) or net_b.to_config() != net_a.to_config():
        raise ValueError("net_b must be a Network of net_a's architecture, runs axis and dtype")
    check_data(net_a, X, y, loss)
    steps = check_positive_int("steps", steps, minimum=2)
    if steps > MAX_STEPS**2:
        raise ValueError(f"steps must be at most {MAX_STEPS**2}, got {steps}")
    a = flatten(net_a).reshape(net_a.runs or 1, -1)
    check_memory(f"a line of {steps} points", 3 * 8 * a.size * steps)
    b = flatten(net_b).reshape(a.shape)
    ts = np.linspace(0.0, 1.0, steps)
    points = (1 - ts)[None, :, None] * a[:, None, :] + ts[None, :, None] * b[:, None, :]  # (R, steps, P)
    R, P = a.shape
    values = evaluate(net_a, X, y, points.reshape(-1, P), loss, run=np.repeat(np.arange(R), steps))
    shape = (R, steps) if net_a.runs else (steps,)
    return Line(ts, values.loss.reshape(shape), values.accuracy.reshape(shape))
