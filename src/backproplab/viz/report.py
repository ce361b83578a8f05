"""The report's two figures: training-loss curves (Figure 1) and decision boundaries (Figure 2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
    grid = np.linspace(-margin, 1 + margin, resolution)
    g1, g2 = np.meshgrid(grid, grid)  # (G, G) each
    points = np.column_stack([g1.ravel(), g2.ravel()])  # (G*G, 2)
    image = None
    for ax, run in zip(axes, runs, strict=True):
        p = run.net.predict_proba(points.astype(run.net.dtype))[:, 0].reshape(g1.shape)  # (G, G)
        image = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 21), cmap="RdBu_r", vmin=0, vmax=1)
        ax.contour(g1, g2, p, levels=[0.5], colors="black", linewidths=2)
        for label, marker in ((0, "o"), (1, "s")):
            rows = run.y == label
            ax.scatter(run.X[rows, 0], run.X[rows, 1], marker=marker, s=110, c="white" if label == 0 else "black",
                       edgecolors="black", linewidths=1.5, zorder=3, label=f"target {label}")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(grid[0], grid[-1])
        ax.set_aspect("equal")
        ax.set_xlabel("input $x_1$")
        ax.set_ylabel("input $x_2$")
        ax.set_title(f"{run.config.title}: black line p = 0.5")
    axes[0].legend(loc="upper left", bbox_to_anchor=(0.0, -0.18), ncol=2, frameon=False)
    if image is not None:
        fig.colorbar(image, ax=axes, label="predicted probability of 1", ticks=np.linspace(0, 1, 6))
    fig.suptitle(f"Figure 2 - decision boundaries, seed {runs[0].seed}" if runs else "Figure 2")
    return fig
