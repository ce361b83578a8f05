"""The Figure every backproplab figure is, and ``History.plot``'s learning curves.

A figure built with ``matplotlib.figure.Figure`` (never through ``pyplot``: no
global state, no GUI backend) shows in Jupyter only as ``<Figure size ...>``
unless pyplot's inline backend was started. ``Figure`` here adds ``_repr_png_``
(rendered by Agg), so every figure of ``backproplab.viz`` and ``History.plot()``
displays as a PNG in a kernel that never imported pyplot; with pyplot's inline
backend active, its own formatter takes precedence and shows the same picture
once. This module imports matplotlib, so only the code that draws imports it
(``import backproplab`` does not).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure as _MatplotlibFigure

__all__ = ["Figure", "learning_curves"]

PANEL = (4.2, 3.4)  # inches per subplot


class Figure(_MatplotlibFigure):
    """A ``matplotlib.figure.Figure`` that displays itself as a PNG in a Jupyter kernel.

    Examples
    --------
    >>> from backproplab.train.plot import Figure
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1], [1, 0])
    >>> fig._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """

    def _repr_png_(self) -> bytes | None:
        """The figure as PNG bytes at 100 dpi (None if it cannot be drawn: Jupyter then shows the text)."""
        buffer = io.BytesIO()
        try:
            self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        except Exception:  # a display never raises
            return None
        return buffer.getvalue()


def panels(n: int, *, sharey: bool = False) -> tuple[Figure, list]:
    """A figure with ``n`` subplots side by side."""
    fig = Figure(figsize=(PANEL[0] * n, PANEL[1]), layout="constrained")
    axes = fig.subplots(1, n, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def learning_curves(history: Any, title: str = "") -> Figure:
    """Loss (left) and accuracy (right, for classifiers) per epoch, training and validation.

    With a runs axis each curve is the median over the runs with a band from the
    smallest to the largest value. ``history.plot()`` draws this figure.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> history = bp.fit(bp.mlp([2, 8, 1], runs=3), X, y, epochs=20, progress=False)
    >>> fig = history.plot()
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    metrics = [m for m in ("loss", "accuracy") if m in history]
    if not metrics or not history.epochs:
        raise ValueError("history has no epochs to plot")
    fig, axes = panels(len(metrics))
    epochs = np.arange(1, history.epochs + 1)
    for ax, metric in zip(axes, metrics, strict=True):
        for prefix, label, color in (("", "training", "C0"), ("val_", "validation", "C1")):
            if prefix + metric not in history:
                continue
            values = history[prefix + metric]  # (E,) or (E, R)
            if values.ndim == 2:
                with np.errstate(all="ignore"):  # a diverged run is NaN from its epoch on
                    ax.fill_between(epochs, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color,
                                    alpha=0.2, linewidth=0)
                    values = np.nanmedian(values, axis=1)
            ax.plot(epochs, values, color=color, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        if metric == "loss":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{title + ': ' if title else ''}learning curves")
    return fig
