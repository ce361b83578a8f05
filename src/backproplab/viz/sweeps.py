"""Figures of the sweeps beyond the report."""

from __future__ import annotations

import numpy as np

from ..experiments.beyond import ActivationSweep, WidthSweep
from ._style import Figure, color, panels


def width_curves(sweep: WidthSweep, report_epochs: int | None = None) -> Figure:
    """Share of seeds that learned XOR against the epoch, one line per hidden width."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    for i, width in enumerate(sweep.widths):
        ax.plot(sweep.epochs, 100 * sweep.share[i], lw=2, color=f"C{i}", label=f"2-{width}-1")
    if report_epochs is not None and report_epochs <= sweep.epochs[-1]:
        ax.axvline(report_epochs, color="gray", ls="--", lw=1)
        ax.text(report_epochs, 99, "the report's epochs ", color="gray", ha="right", va="top")
    ax.set_xlabel("epoch")
    ax.set_ylabel("seeds that learned XOR (%)")
    ax.set_ylim(-2, 102)
    ax.set_xlim(0, sweep.epochs[-1])
    ax.grid(alpha=0.3)
    ax.legend(title="network", loc="upper left")
    ax.set_title(f"XOR learned, by hidden width and epoch ({sweep.seeds} seeds each)")
    return fig


def activation_curves(sweep: ActivationSweep) -> Figure:
    """Median training loss (log scale, 5-95 % band) per hidden activation, one panel per experiment."""
    fig, axes = panels(len(sweep.functions), sharey=True)
    for ax, name in zip(axes, sweep.functions, strict=True):
        for j, activation in enumerate(sweep.activations):
            band = sweep.loss_bands[(name, activation)]  # (E, 3)
            epochs = np.arange(1, band.shape[0] + 1)
            c = color(activation, j)
            ax.fill_between(epochs, band[:, 0], band[:, 2], color=c, alpha=0.18, lw=0)
            ax.plot(epochs, band[:, 1], color=c, lw=2, label=activation)
        ax.axhline(sweep.threshold, color="gray", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (log scale)")
        ax.set_title(name.upper())
        ax.grid(alpha=0.3, which="both")
        ax.legend(title="hidden activation")
    fig.suptitle(f"Hidden activation: median loss and 5-95 % band ({sweep.seeds} seeds each; "
                 f"dotted: loss {sweep.threshold:g})")
    return fig
