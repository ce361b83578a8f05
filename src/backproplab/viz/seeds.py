"""Many-seed figures: what one run hides.

Each function takes the ``FunctionResult`` list of ``reproduce`` (items with many-seed
statistics) and draws one panel per experiment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from ..experiments.reproduce import FunctionResult
from ._style import Figure, color, panels


def _with_stats(items: Sequence[FunctionResult]) -> list[FunctionResult]:
    items = [item for item in items if item.stats is not None]
    if not items:
        raise ValueError("these figures need results with many-seed statistics (seeds >= 2)")
    return items


def loss_bands(items: Sequence[FunctionResult]) -> Figure:
    """Median training loss over the seeds with its 5-95 % band, and the chosen seed's curve."""
    items = _with_stats(items)
    fig, axes = panels(len(items))
    for i, (ax, item) in enumerate(zip(axes, items, strict=True)):
        band = item.stats.loss_band  # (E, 3)
        epochs = np.arange(1, band.shape[0] + 1)
        c = color(item.config.name, i)
        ax.fill_between(epochs, band[:, 0], band[:, 2], color=c, alpha=0.25, lw=0, label="5-95 % of seeds")
        ax.plot(epochs, band[:, 1], color=c, lw=2, label="median")
        ax.plot(epochs, item.chosen.history.loss, color="black", lw=1, ls="--", label=f"seed {item.chosen.seed}")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_title(f"{item.config.title}: {item.stats.seeds.size} seeds")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("Training loss over many seeds: median and 5-95 % band")
    return fig


def final_loss_histograms(items: Sequence[FunctionResult], bins: int = 40) -> Figure:
    """Histogram of the final loss over the seeds (log scale), split by learned / not learned."""
    items = _with_stats(items)
    fig, axes = panels(len(items))
    for i, (ax, item) in enumerate(zip(axes, items, strict=True)):
        stats = item.stats
        loss = stats.final_loss
        edges = np.geomspace(loss.min(), loss.max(), bins + 1) if loss.max() > loss.min() else bins
        ax.hist([loss[stats.learned], loss[~stats.learned]], bins=edges, stacked=True,
                color=[color(item.config.name, i), "#7f7f7f"],
                label=[f"learned ({stats.learned.sum()})", f"not learned ({(~stats.learned).sum()})"])
        ax.axvline(item.chosen.final_loss(), color="black", ls="--", lw=1.2, label=f"seed {item.chosen.seed}")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(NullFormatter())  # the default labels minor ticks too, and they collide
        ax.set_xlabel("final training loss (log scale)")
        ax.set_ylabel("number of seeds")
        ax.set_title(f"{item.config.title}: {stats.seeds.size} seeds")
        ax.legend()
    fig.suptitle("Final loss over many seeds")
    return fig


def prediction_spread(items: Sequence[FunctionResult]) -> Figure:
    """Each row's predicted probability over the seeds (box: quartiles, whiskers: 5-95 %).

    The report's single value (red diamond) and the chosen seed's (black cross) are
    marked, so one sees where in the distribution each falls.
    """
    items = _with_stats(items)
    fig, axes = panels(len(items), sharey=True)
    for i, (ax, item) in enumerate(zip(axes, items, strict=True)):
        p = item.stats.predictions  # (R, B)
        positions = np.arange(p.shape[1])
        ax.boxplot(p, positions=positions, whis=(5, 95), widths=0.5, showfliers=False,
                   patch_artist=True, boxprops={"facecolor": color(item.config.name, i), "alpha": 0.45},
                   medianprops={"color": "black"})
        reference = item.config.reference.predicted
        if reference is not None:
            ax.scatter(positions, reference, marker="D", color="#d62728", s=45, zorder=3, label="report")
        ax.scatter(positions, item.predictions, marker="x", color="black", s=55, zorder=4,
                   label=f"seed {item.chosen.seed}")
        ax.axhline(0.5, color="gray", lw=1, ls=":")
        ax.set_xticks(positions, [f"{int(a)} {int(b)}\n(target {int(t)})" for (a, b), t in zip(item.chosen.X,
                                                                                           item.chosen.y, strict=True)])
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("input")
        ax.set_ylabel("predicted probability")
        ax.set_title(f"{item.config.title}: {p.shape[0]} seeds")
        ax.legend(loc="center left")
    fig.suptitle("Predictions over many seeds (whiskers 5-95 %)")
    return fig
