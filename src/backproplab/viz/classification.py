"""Figures of a multi-class run: the confusion matrix and the learning curves (train and validation).

Both take plain results (a count matrix, a ``History``) and return a
``matplotlib.figure.Figure``; saving is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..train.loop import History
from ._style import PANEL, panels


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


def learning_curves(history: History, title: str = "") -> Figure:
    """Loss (left) and accuracy (right, for classifiers) per epoch, training and validation.

    With a runs axis each curve is the median over the runs with a band from the
    smallest to the largest value.
    """
    metrics = [m for m in ("loss", "accuracy") if m in history]
    fig, axes = panels(len(metrics))
    epochs = np.arange(1, history.epochs + 1)
    for ax, metric in zip(axes, metrics, strict=True):
        for prefix, label, color in (("", "training", "C0"), ("val_", "validation", "C1")):
            if prefix + metric not in history:
                continue
            values = history[prefix + metric]  # (E,) or (E, R)
            if values.ndim == 2:
                ax.fill_between(epochs, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color=color, alpha=0.2,
                                linewidth=0)
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
