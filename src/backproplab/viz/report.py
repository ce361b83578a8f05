"""The report's two figures, training-loss curves (Figure 1) and decision boundaries (Figure 2); one boundary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import check_positive_int
from ..core.network import Network
from ..experiments.build import Trained
from ._style import Figure, color, panels


def loss_curves(runs: Sequence[Trained]) -> Figure:
    """Figure 1: the training loss of each single-network run against the epoch, on one axis."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for i, run in enumerate(runs):
        loss = run.history.loss  # (E,)
        ax.plot(np.arange(1, loss.size + 1), loss, color=color(run.config.name, i), lw=1.8,
                label=f"{run.config.title} (2-{'-'.join(map(str, run.config.model.hidden))}-1)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (binary cross-entropy)")
    ax.set_title(f"Figure 1 - training loss, seed {runs[0].seed}" if runs else "Figure 1 - training loss")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def decision_boundaries(runs: Sequence[Trained], resolution: int = 201, margin: float = 0.25) -> Figure:
    """Figure 2: each network's predicted probability over the input square, the 0.5 contour and the data.

    Parameters
    ----------
    runs : sequence of Trained
        Single networks with two inputs.
    resolution : int
        Grid points per axis.
    margin : float
        How far the grid extends beyond ``[0, 1]`` on each side.
    """
    fig, axes = panels(len(runs))
    image = None
    for ax, run in zip(axes, runs, strict=True):
        image = draw_boundary(ax, run.net, run.X, run.y, (-margin, 1 + margin, -margin, 1 + margin), resolution)
        ax.set_title(f"{run.config.title}: black line p = 0.5")
    axes[0].legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=2, frameon=False)
    if image is not None:
        fig.colorbar(image, ax=axes, label="predicted probability of 1", ticks=np.linspace(0, 1, 6))
    fig.suptitle(f"Figure 2 - decision boundaries, seed {runs[0].seed}" if runs else "Figure 2")
    return fig


def decision_boundary(net: Network, X: Any, y: Any, *, resolution: int = 201, margin: float = 0.25,
                      title: str = "") -> Figure:
    """The decision boundary of one network with two inputs, over its data: a matplotlib ``Figure``.

    A sigmoid output shows the predicted probability of class 1 with the 0.5 contour;
    a softmax output shows the predicted class of each point of the plane.

    Parameters
    ----------
    net : Network
        Two inputs, no runs axis (``mlp(..., runs=None)``).
    X : array-like, ``(B, 2)``
    y : array-like, ``(B,)``
        Class labels (0/1 for a sigmoid output), drawn as markers.
    resolution : int, default 201
        Grid points per axis.
    margin : float, default 0.25
        How far the plane extends beyond the data, as a share of its range on each axis.
    title : str, optional

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.viz import decision_boundary
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> fig = decision_boundary(net, X, y)
    >>> fig.axes[0].get_xlabel(), fig._repr_png_()[:4]
    ('input $x_1$', b'\\x89PNG')
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a backproplab Network, got {type(net).__name__}")
    if net.runs is not None or net.n_inputs != 2:
        raise ValueError(f"net must be one network with 2 inputs, got {net.n_inputs} inputs"
                         + (f" and {net.runs} runs (pick one: net.runs is not None)" if net.runs else ""))
    X = net.check_input(X)
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} labels for {X.shape[0]} rows of X")
    resolution = check_positive_int("resolution", resolution, minimum=2)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    fig = Figure(figsize=(5.2, 4.2), layout="constrained")
    ax = fig.subplots()
    image = draw_boundary(ax, net, X, y, (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]), resolution)
    if net.output == "sigmoid":
        fig.colorbar(image, ax=ax, label="predicted probability of 1", ticks=np.linspace(0, 1, 6))
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or ("black line: p = 0.5" if net.output == "sigmoid" else "predicted class"))
    return fig


def draw_boundary(ax: Any, net: Network, X: np.ndarray, y: np.ndarray, extent: tuple[float, float, float, float],
                  resolution: int) -> Any:
    """Draw ``net``'s output over ``extent`` on ``ax`` with the data on top; returns the filled contour."""
    g1, g2 = np.meshgrid(np.linspace(extent[0], extent[1], resolution), np.linspace(extent[2], extent[3], resolution))
    points = np.column_stack([g1.ravel(), g2.ravel()]).astype(net.dtype)  # (G*G, 2)
    p = net.predict_proba(points)  # (G*G, K)
    if net.output == "softmax":
        classes = p.shape[1]
        image = ax.contourf(g1, g2, p.argmax(axis=1).reshape(g1.shape), levels=np.arange(classes + 1) - 0.5,
                            cmap="tab10", vmin=0, vmax=9, alpha=0.35)
    else:
        p = p[:, 0].reshape(g1.shape)  # (G, G)
        image = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r", vmin=0, vmax=1)
        ax.contour(g1, g2, p, levels=[0.5], colors="black", linewidths=2)
    markers = "os^vDP*X"
    for i, label in enumerate(np.unique(y)):
        rows = y == label
        face = ("white" if i == 0 else "black") if net.output != "softmax" else f"C{int(label) % 10}"
        ax.scatter(X[rows, 0], X[rows, 1], marker=markers[i % len(markers)], s=110 if len(X) <= 16 else 18, c=face,
                   edgecolors="black", linewidths=1.5 if len(X) <= 16 else 0.5, zorder=3, label=f"target {label:g}")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("input $x_1$")
    ax.set_ylabel("input $x_2$")
    return image
