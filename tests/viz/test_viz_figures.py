"""Figures: each draws what it is given (data checked on the artists), labelled, and saves as a PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.image import imread

from backproplab import viz
from backproplab.experiments import reproduce
from backproplab.experiments.config import load_config


@pytest.fixture(scope="module")
def result():
    configs = [load_config(n).replace("training", epochs=60) for n in ("and", "or", "xor")]
    return reproduce(seeds=6, sweep_seeds=4, sweep_epochs=100, configs=configs)


def _png(fig: Figure) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    buffer.seek(0)
    return imread(buffer, format="png")


def _check_labelled(fig: Figure) -> None:
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert axes
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    image = _png(fig)
    assert image.ndim == 3 and min(image.shape[:2]) > 20


def test_loss_curves_plot_each_history(result) -> None:
    runs = [item.chosen for item in result.functions]
    fig = viz.loss_curves(runs)
    _check_labelled(fig)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    for line, run in zip(lines, runs, strict=True):
        np.testing.assert_array_equal(line.get_ydata(), run.history.loss)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["AND (2-4-1)", "OR (2-4-1)", "XOR (2-8-1)"]


def test_decision_boundaries_draw_the_half_contour_and_the_points(result) -> None:
    runs = [item.chosen for item in result.functions]
    fig = viz.decision_boundaries(runs, resolution=41)
    _check_labelled(fig)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3
    for ax, run in zip(panels, runs, strict=True):
        levels = [list(c.levels) for c in ax.collections if hasattr(c, "levels")]
        assert [0.5] in levels  # the decision boundary
        points = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
        assert sorted(map(tuple, points)) == sorted(map(tuple, run.X))
        lo, hi = ax.get_xlim()
        assert lo < 0 and hi > 1


def test_loss_bands_show_the_median_and_the_chosen_seed(result) -> None:
    fig = viz.loss_bands(result.functions)
    _check_labelled(fig)
    for ax, item in zip(fig.axes, result.functions, strict=True):
        median, chosen = ax.get_lines()
        np.testing.assert_array_equal(median.get_ydata(), item.stats.loss_band[:, 1])
        np.testing.assert_array_equal(chosen.get_ydata(), item.chosen.history.loss)


def test_histograms_count_every_seed(result) -> None:
    fig = viz.final_loss_histograms(result.functions, bins=5)
    _check_labelled(fig)
    for ax, item in zip(fig.axes, result.functions, strict=True):
        heights = [p.get_height() for p in ax.patches]
        assert sum(heights) == item.stats.seeds.size  # stacked bars: learned + not learned
        assert ax.get_xscale() == "log"


def test_prediction_spread_marks_report_and_chosen(result) -> None:
    fig = viz.prediction_spread(result.functions)
    _check_labelled(fig)
    for ax, item in zip(fig.axes, result.functions, strict=True):
        offsets = [c.get_offsets() for c in ax.collections]
        np.testing.assert_allclose(offsets[0][:, 1], item.config.reference.predicted)
        np.testing.assert_allclose(offsets[1][:, 1], item.predictions)


def test_sweep_figures(result) -> None:
    fig = viz.width_curves(result.width, report_epochs=2000)
    _check_labelled(fig)
    for line, share in zip(fig.axes[0].get_lines(), result.width.share, strict=False):
        np.testing.assert_array_equal(line.get_ydata(), 100 * share)
    fig = viz.activation_curves(result.activations)
    _check_labelled(fig)
    assert len(fig.axes) == 3
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == list(result.activations.activations)


def test_seed_figures_need_statistics() -> None:
    configs = [load_config("and").replace("training", epochs=5)]
    bare = reproduce(seeds=0, configs=configs)
    with pytest.raises(ValueError, match="many-seed"):
        viz.loss_bands(bare.functions)
