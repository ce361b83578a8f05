"""Shared look: one colour per function and per activation, figure sizes."""

from __future__ import annotations

from ..train.plot import PANEL, Figure, panels

__all__ = ["COLORS", "PANEL", "Figure", "color", "panels"]

#: Colour of each experiment (by config name) and each hidden activation, the same in every figure.
COLORS = {"and": "#1f77b4", "or": "#ff7f0e", "xor": "#2ca02c",
          "sigmoid": "#1f77b4", "tanh": "#d62728", "relu": "#9467bd", "leaky_relu": "#8c564b"}


def color(name: str, index: int = 0) -> str:
    """The colour of ``name``, or the ``index``-th default colour."""
    return COLORS.get(name, f"C{index % 10}")
