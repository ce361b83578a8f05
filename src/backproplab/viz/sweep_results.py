"""Figures of a user sweep (``backproplab sweep``): what each swept key does to learning.

- two or more grid keys: a heatmap of the table's main metric (share learned, or
  accuracy) over the first two keys, the value written in every cell; one panel
  per value of the further keys;
- one key: the median and 5-95 % band of the final loss and of the accuracy
  against it;
- a sample over two or more ranges: the cells as points on the first two keys,
  coloured by the metric.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import PANEL, Figure

if TYPE_CHECKING:  # the type only: viz draws tables that sweeps/ computes, and never imports it
    from ..sweeps.table import SweepTable

LABELS = {"learned": "share of seeds that learned", "val_accuracy_median": "validation accuracy (median)",
          "accuracy_median": "training accuracy (median)", "final_loss_median": "final loss (median)"}


NAMES = {"final_loss": "final training loss", "accuracy": "training accuracy", "val_accuracy": "validation accuracy"}


def value_label(value: Any) -> str:
    """A swept value as a short label: ``[16, 8]``, ``0.1``, ``tanh``."""
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def heatmap(table: SweepTable, metric: str | None = None) -> Figure:
    """The metric over the first two keys (rows: first key, columns: second), one panel per value of the others."""
    metric = metric or table.metric
    k1, k2, *rest = table.keys
    rows, cols = _unique(table.column(k1)), _unique(table.column(k2))
    groups = list(itertools.product(*(_unique(table.column(k)) for k in rest)))
    n = len(groups)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    width = max(PANEL[0], 0.9 * len(cols) + 2.0)
    height = max(PANEL[1], 0.5 * len(rows) + 1.6)
    fig = Figure(figsize=(width * ncols + 1.2, height * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    bounded = metric != "final_loss_median"  # shares and accuracies live in [0, 1]
    image = None
    for ax, group in zip(axes, groups, strict=False):
        grid = np.full((len(rows), len(cols)), np.nan)
        for row in table.rows:
            if all(row[k] == v for k, v in zip(rest, group, strict=True)):
                grid[rows.index(row[k1]), cols.index(row[k2])] = row[metric]
        image = ax.imshow(grid, cmap="viridis", vmin=0 if bounded else None, vmax=1 if bounded else None,
                          aspect="auto")
        lo, hi = image.get_clim()
        for (i, j), v in np.ndenumerate(grid):
            if np.isfinite(v):
                dark = (v - lo) / ((hi - lo) or 1.0) < 0.6  # white text on the dark end of viridis
                ax.text(j, i, f"{v:.2f}" if bounded else f"{v:.3g}", ha="center", va="center",
                        color="white" if dark else "black", fontsize=10)
        ax.set_xticks(range(len(cols)), [value_label(v) for v in cols])
        ax.set_yticks(range(len(rows)), [value_label(v) for v in rows])
        ax.set_xlabel(k2)
        ax.set_ylabel(k1)
        if rest:
            ax.set_title(", ".join(f"{k} = {value_label(v)}" for k, v in zip(rest, group, strict=True)))
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.colorbar(image, ax=list(axes[:n]), label=LABELS.get(metric, metric), shrink=0.9)
    fig.suptitle(f"{LABELS.get(metric, metric)}, {table.rows[0]['seeds']} seeds per cell")
    return fig


def band(table: SweepTable) -> Figure:
    """Median and 5-95 % band of the final loss and of the accuracy against the one swept key."""
    (key,) = table.keys[:1]
    values = table.column(key)
    numeric = _numeric(values)
    order = np.argsort(values) if numeric else np.arange(len(values))
    x = np.asarray(values, dtype=float)[order] if numeric else np.arange(len(values))
    names = [n for n in ("final_loss", "val_accuracy", "accuracy") if f"{n}_median" in table.columns]
    if "val_accuracy" in names:
        names.remove("accuracy")
    fig = Figure(figsize=(PANEL[0] * len(names) + 0.4, PANEL[1] + 0.3), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        median, p5, p95 = (np.asarray(table.column(f"{name}_{q}"), dtype=float)[order] for q in ("median", "p5", "p95"))
        if numeric:
            ax.fill_between(x, p5, p95, color="C0", alpha=0.2, lw=0, label="5-95 % of seeds")
            ax.plot(x, median, "o-", color="C0", lw=2, label="median")
        else:  # categories: no line between them, a bar from 5 % to 95 % at each
            ax.errorbar(x, median, yerr=[median - p5, p95 - median], fmt="o", color="C0", ms=7, capsize=8, lw=2,
                        label="median, 5-95 % of seeds")
        if numeric and min(x) > 0 and max(x) / min(x) >= 20:
            ax.set_xscale("log")
        if name == "final_loss" and np.all(p5 > 0):
            ax.set_yscale("log")
        if not numeric:
            ax.set_xticks(x, [value_label(values[i]) for i in order])
            ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_xlabel(key)
        ax.set_ylabel(NAMES[name])
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.suptitle(f"{key}: median and 5-95 % band over {table.rows[0]['seeds']} seeds per cell")
    return fig


def scatter(table: SweepTable, metric: str | None = None) -> Figure:
    """Sampled cells on the first two keys, coloured by the metric."""
    metric = metric or table.metric
    k1, k2 = table.keys[:2]
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    x, y = (np.asarray(table.column(k), dtype=float) for k in (k1, k2))
    bounded = metric != "final_loss_median"
    points = ax.scatter(x, y, c=table.column(metric), cmap="viridis", vmin=0 if bounded else None,
                        vmax=1 if bounded else None, s=60, edgecolors="black", linewidths=0.5)
    for axis, v in ((ax.xaxis, x), (ax.yaxis, y)):
        if v.min() > 0 and v.max() / v.min() >= 20:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
    ax.set_xlabel(k1)
    ax.set_ylabel(k2)
    ax.grid(alpha=0.3, which="both")
    fig.colorbar(points, ax=ax, label=LABELS.get(metric, metric))
    ax.set_title(f"{len(table)} sampled cells, {table.rows[0]['seeds']} seeds each")
    return fig


def figures(table: SweepTable, sampled: bool) -> dict[str, Figure]:
    """A sweep's figures by file stem: ``heatmap`` (``scatter`` for a sample) for two keys or more, else ``band``."""
    if len(table.keys) == 1:
        return {"band": band(table)}
    return {"scatter": scatter(table)} if sampled else {"heatmap": heatmap(table)}
