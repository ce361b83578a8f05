"""Directions to look along: filter-normalised random ones, and the principal components of a trajectory.

A random direction of parameter space means nothing until it is scaled to the
network: a weight of size 3 moved by 0.1 hardly changes, one of size 0.01 is
wiped out. Li et al. (2018, *Visualizing the Loss Landscape of Neural Nets*)
normalise *filter by filter*: for a Dense layer a filter is one unit's incoming
weights, a column ``W[:, j]`` of our ``(fan_in, fan_out)`` layout, and the
direction's column is rescaled to the norm of the weights' column,
``d_j <- d_j / ||d_j|| * ||theta_j||``. Parameters that are not weight
matrices (biases, batch norm's gamma and beta) get a zero direction, as the
paper's experiments do (its code's ``ignore="biasbn"``); ``biases="copy"``
takes the parameter itself instead, the paper's other option.

A training run moves in a low-dimensional subspace, and random directions
almost surely miss it. ``pca_directions`` takes the two principal components of
the recorded points relative to the final one (Li et al., section 7): the plane
the path lies closest to.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice, check_seed
from ..core.network import Network
from .points import flatten, run_shapes, unflatten


def random_directions(net: Network, seed: int = 0, *, biases: str = "zero") -> tuple[np.ndarray, np.ndarray]:
    """Two filter-normalised random directions (Li et al. 2018), flat ``(P,)`` or ``(R, P)`` with a runs axis.

    Parameters
    ----------
    net : Network
        Gives the weights the directions are scaled to; left unchanged.
    seed : int, default 0
        Seed of the Gaussian draws (the same seed gives the same directions).
    biases : {"zero", "copy"}, default "zero"
        Direction of the parameters that are not weight matrices: zero (the
        paper's experiments) or the parameter itself.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.landscape import random_directions, unflatten
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> d1, d2 = random_directions(net, seed=1)
    >>> W, dW = net.params["0.W"], unflatten(net, d1)["0.W"]
    >>> bool(np.allclose(np.linalg.norm(dW, axis=0), np.linalg.norm(W, axis=0)))  # column by column
    True
    >>> float(np.abs(unflatten(net, d1)["0.b"]).max())  # biases: zero
    0.0
    """
    seed = check_seed(seed)
    check_choice("biases", biases, ("zero", "copy"))
    rng = np.random.default_rng(seed)
    theta = flatten(net).reshape(net.runs or 1, -1)
    out = []
    for _ in range(2):
        d = rng.standard_normal(theta.shape)  # (R, P)
        parts, params = unflatten(net, d), unflatten(net, theta)
        for name in run_shapes(net):
            if name.endswith(".W"):  # filters: columns, over the fan_in axis
                w, dw = params[name], parts[name]
                norm = np.linalg.norm(dw, axis=-2, keepdims=True)
                dw *= np.linalg.norm(w, axis=-2, keepdims=True) / np.where(norm > 0, norm, 1.0)
            elif biases == "zero":
                parts[name][...] = 0.0
            else:
                parts[name][...] = params[name]
        out.append(d if net.runs else d[0])
    return out[0], out[1]


def pca_directions(points: Any, centre: Any | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two principal directions of flat points ``(F, P)`` around ``centre`` (default: the last point).

    Returns ``d1, d2`` (unit vectors ``(P,)``, orthogonal) and the share of the
    variance of ``points - centre`` each explains ``(2,)``. The signs are fixed so
    that the first point has non-negative coordinates, so the same path gives
    the same picture every time.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab.landscape import pca_directions
    >>> path = np.array([[2.0, 1.0, 0.0], [1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])  # a straight line into the origin
    >>> d1, d2, explained = pca_directions(path)
    >>> np.round(d1, 4), np.round(explained, 4)
    (array([0.8944, 0.4472, 0.    ]), array([1., 0.]))
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"points must be (F, P) with at least 2 points, got shape {points.shape}")
    centre = points[-1] if centre is None else np.asarray(centre, dtype=np.float64)
    if centre.shape != points.shape[1:]:
        raise ValueError(f"centre has shape {centre.shape}, expected {points.shape[1:]}")
    diff = points - centre  # (F, P)
    _, s, vt = np.linalg.svd(diff, full_matrices=False)
    var = s**2
    explained = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
    d = np.zeros((2, points.shape[1]))
    d[: len(vt[:2])] = vt[:2]
    for k in range(2):
        if diff[0] @ d[k] < 0:
            d[k] = -d[k]
    return d[0], d[1], np.pad(explained, (0, 2 - len(explained)))


def project(points: Any, centre: Any, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Coordinates ``(F, 2)`` of flat points on the plane ``centre + a d1 + b d2`` (least squares).

    For orthonormal directions these are the dot products; otherwise the least-squares
    solution, so any two independent directions work.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab.landscape import project
    >>> d1, d2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    >>> project([[2.0, 3.0, 0.0], [1.0, 1.0, 0.0]], np.zeros(3), d1, d2)
    array([[2., 3.],
           [1., 1.]])
    """
    diff = np.asarray(points, dtype=np.float64) - np.asarray(centre, dtype=np.float64)
    D = np.stack([d1, d2], axis=1)  # (P, 2)
    coords, *_ = np.linalg.lstsq(D, diff.T, rcond=None)
    return coords.T

