"""Figures of a user sweep: the heatmap writes the table's values in its cells; bands and points follow the table."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.experiments.config import load_config
from backproplab.sweeps.run import sweep
from backproplab.viz.sweep_results import band, figures, heatmap, scatter

XOR = load_config("xor").replace("training", epochs=40)


@pytest.fixture(scope="module")
def three_keys():
    return sweep(XOR, {"model.hidden": [[2], [3]], "training.lr": [0.5, 2.0, 4.0],
                       "model.activation": ["sigmoid", "tanh"]}, runs=6)


def test_heatmap_has_a_panel_per_third_key_value_and_the_values_in_its_cells(three_keys) -> None:
    fig = heatmap(three_keys)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("model.activation")]
    assert [ax.get_title() for ax in panels] == ["model.activation = sigmoid", "model.activation = tanh"]
    for ax, activation in zip(panels, ("sigmoid", "tanh"), strict=True):
        rows = [r for r in three_keys if r["model.activation"] == activation]
        assert sorted(t.get_text() for t in ax.texts) == sorted(f"{r['learned']:.2f}" for r in rows)
        image = ax.get_images()[0].get_array()  # (hidden, lr)
        np.testing.assert_array_equal(image, np.reshape([r["learned"] for r in rows], (2, 3)))
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "2", "4"]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["[2]", "[3]"]
    assert list(figures(three_keys, sampled=False)) == ["heatmap"]


def test_band_follows_the_table_for_one_key() -> None:
    table = sweep(XOR, {"training.lr": [4.0, 0.5, 1.0]}, runs=5)
    fig = band(table)
    loss_ax = fig.axes[0]
    x, median = loss_ax.lines[0].get_data()
    np.testing.assert_array_equal(x, [0.5, 1.0, 4.0])  # sorted along the axis
    by_lr = {r["training.lr"]: r["final_loss_median"] for r in table}
    np.testing.assert_array_equal(median, [by_lr[v] for v in (0.5, 1.0, 4.0)])
    assert [ax.get_ylabel() for ax in fig.axes] == ["final training loss", "training accuracy"]
    assert list(figures(table, sampled=False)) == ["band"]


def test_scatter_places_the_sampled_cells() -> None:
    table = sweep(XOR, sample="random:5", ranges={"training.lr": (0.1, 5.0), "training.epochs": (10, 30)}, runs=3)
    fig = scatter(table)
    offsets = fig.axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(offsets, [[r["training.lr"], r["training.epochs"]] for r in table])
    assert list(figures(table, sampled=True)) == ["scatter"]
