"""Figures of landscapes: a plane with the path on it beside the true loss along the path, a line, spectra.

Each function takes results and returns a matplotlib ``Figure`` (saving is the
caller's job, DESIGN.md's rule); this module is the only one of the package
that imports matplotlib, so ``import backproplab.landscape`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import LogNorm

from ..train.plot import Figure  # shows as a PNG in a notebook, without pyplot
from .hessian import Spectrum
from .surface import Line, Plane
from .trajectory import PathLoss


def _panels(n: int, width: float = 4.6, height: float = 3.8) -> tuple[Figure, list]:
    fig = Figure(figsize=(width * n, height), layout="constrained")
    return fig, list(fig.subplots(1, n, squeeze=False)[0])


def path_figure(surface: Plane, coords: np.ndarray, explained: np.ndarray, path_loss: PathLoss,
                epochs: np.ndarray, title: str = "", marker: int | None = None) -> Figure:
    """The loss on the PCA plane with the projected path, beside the loss along the path by epoch.

    The right panel shows the run's true loss ``L(theta_t)`` and the plane's value
    at the path's projection: where they part, the contour is not the loss the run had.
    ``marker`` (a frame index) marks one point on both panels.
    """
    fig, (ax, ax2) = _panels(2)
    loss = np.clip(surface.loss, 1e-12, None)
    # Log-spaced levels when the loss spans a factor of 2 or more (a valley and its walls), else linear ones
    # (a plateau, whose few-per-mille differences a log scale would flatten and a 3-digit label repeat).
    wide = loss.max() > 2 * loss.min()
    levels = np.geomspace(loss.min(), loss.max(), 30) if wide else 30
    cs = ax.contourf(surface.alphas, surface.betas, loss, levels=levels, cmap="viridis",
                     norm=LogNorm() if wide else None)
    fig.colorbar(cs, ax=ax, label="loss on the plane", format="%.3g" if wide else None)
    ax.plot(coords[:, 0], coords[:, 1], color="white", lw=1.5, marker=".", ms=3)
    ax.plot(*coords[0], "o", color="#ff7f0e", ms=7, label=f"start (epoch {epochs[0]})")
    ax.plot(*coords[-1], "*", color="#d62728", ms=11, label=f"end (epoch {epochs[-1]})")
    ax.set_xlabel(f"PC 1 ({explained[0]:.1%} of the path's variance)")
    ax.set_ylabel(f"PC 2 ({explained[1]:.1%})")
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.8)
    ax.set_title("loss on the PCA plane, path projected")
    ax2.plot(epochs, path_loss.true, color="#1f77b4", lw=2, label="true loss L(θ_t)")
    ax2.plot(epochs, path_loss.on_plane, color="#ff7f0e", ls="--", label="plane's loss at the projection")
    if path_loss.true.max() > 2 * max(path_loss.true.min(), 1e-12):
        ax2.set_yscale("log")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("loss")
    ax2.set_title("loss along the path")
    ax2.legend(fontsize=8)
    if marker is not None:
        ax.plot(*coords[marker], "s", color="red", ms=8)
        ax2.axvline(epochs[marker], color="red", lw=1)
    if title:
        fig.suptitle(title)
    return fig


def line_figure(line: Line, title: str = "", labels: tuple[str, str] = ("initial", "final")) -> Figure:
    """The loss (and accuracy, for a classifier) along ``(1 - t) theta_a + t theta_b``."""
    fig, (ax,) = _panels(1, width=5.5)
    ax.plot(line.ts, line.loss, color="#1f77b4", lw=2)
    ax.set_xlabel(f"t  (0 = {labels[0]}, 1 = {labels[1]})")
    ax.set_ylabel("loss", color="#1f77b4")
    if not np.isnan(line.accuracy).all():
        acc = ax.twinx()
        acc.plot(line.ts, line.accuracy, color="#2ca02c", lw=1, ls=":")
        acc.set_ylabel("accuracy", color="#2ca02c")
        acc.set_ylim(-0.05, 1.05)
    ax.set_title(title or f"loss from the {labels[0]} to the {labels[1]} weights, on the straight line")
    return fig


def spectrum_figure(epochs: Sequence[int], spectra: Sequence[Spectrum], title: str = "") -> Figure:
    """Every eigenvalue of the Hessian at each epoch (symmetric log scale), extremes joined by lines."""
    fig, (ax,) = _panels(1, width=6.5)
    for e, s in zip(epochs, spectra, strict=True):
        lam = s.eigenvalues
        colors = np.where(lam < -s.tol, "#d62728", np.where(lam > s.tol, "#1f77b4", "#7f7f7f"))
        ax.scatter(np.full(lam.shape, e), lam, c=colors, s=10, alpha=0.7, linewidths=0)
    ax.plot(epochs, [s.max for s in spectra], color="#1f77b4", lw=1, label="largest")
    ax.plot(epochs, [s.min for s in spectra], color="#d62728", lw=1, label="smallest")
    tol = max(float(np.max(s.tol)) for s in spectra)
    ax.set_yscale("symlog", linthresh=max(tol * 10, 1e-6))
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Hessian eigenvalue")
    ax.legend(fontsize=8, title="red < 0 < blue, grey ≈ 0", title_fontsize=8)
    ax.set_title(title or "Hessian spectrum along training")
    return fig
