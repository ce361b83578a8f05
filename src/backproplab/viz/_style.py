"""Shared look: one colour per function and per activation, figure sizes."""

from __future__ import annotations

from matplotlib.figure import Figure

#: Colour of each experiment (by config name) and each hidden activation, the same in every figure.
COLORS = {"and": "#1f77b4", "or": "#ff7f0e", "xor": "#2ca02c",
          "sigmoid": "#1f77b4", "tanh": "#d62728", "relu": "#9467bd", "leaky_relu": "#8c564b"}

PANEL = (4.2, 3.4)  # inches per subplot


def color(name: str, index: int = 0) -> str:
    """The colour of ``name``, or the ``index``-th default colour."""
    return COLORS.get(name, f"C{index % 10}")


def panels(n: int, *, sharey: bool = False) -> tuple[Figure, list]:
    """A figure with ``n`` subplots side by side."""
    fig = Figure(figsize=(PANEL[0] * n, PANEL[1]), layout="constrained")
    axes = fig.subplots(1, n, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)
