"""Figures of a multi-class run: the confusion matrix and the learning curves (train and validation).

Both take plain results (a count matrix, a ``History``) and return a
``matplotlib.figure.Figure``; saving is the caller's job. The learning curves are
``History.plot()``'s figure and live with it in ``backproplab.train.plot``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..train.plot import Figure, learning_curves
from ._style import PANEL

__all__ = ["confusion_matrix_figure", "learning_curves"]


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str] | None = None, title: str = "") -> Figure:
    """A heat map of ``cm`` ``(K, K)`` (rows true, columns predicted), each cell with its count.

    Colours show each row's share (the recall of that class), so a small class is as
    readable as a large one; the numbers are counts.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (K, K) count matrix, got shape {cm.shape}")
    k = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} classes")
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = max(PANEL[1], 0.45 * k + 1.5)
    fig = Figure(figsize=(size + 0.8, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8 if k > 6 else 10,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"{title + ': ' if title else ''}confusion matrix (accuracy {accuracy:.3f})")
    return fig
