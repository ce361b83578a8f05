"""Tables and report.md: one source for stdout, CSV and Markdown; every number from the result."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.experiments import reproduce
from backproplab.experiments.config import load_config
from backproplab.present import report


@pytest.fixture(scope="module")
def result():
    configs = [load_config(n).replace("training", epochs=80) for n in ("and", "or", "xor")]
    return reproduce(seed=2, seeds=8, sweep_seeds=4, sweep_epochs=100, configs=configs)


def _parse(markdown_table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in markdown_table.splitlines()]


def test_table_markdown_is_aligned_and_parses_back() -> None:
    t = report.Table("t", "T", ["a", "long header"], [[1.23456, "x"], [float("inf"), True], [None, False]],
                     [".2f", ""])
    lines = t.to_markdown().splitlines()
    assert len({len(line) for line in lines}) == 1  # aligned
    assert set(lines[1]) == {"|", "-"}
    assert _parse(t.to_markdown())[2:] == [["1.23", "x"], ["never", "yes"], ["-", "no"]]


def test_prediction_tables_hold_the_chosen_networks_predictions(result) -> None:
    for number, item in enumerate(result.functions, start=1):
        t = report.prediction_table(item, number)
        assert t.title.startswith(f"Table {number} - {item.config.title}")
        np.testing.assert_array_equal([row[3] for row in t.rows], item.chosen.net.predict_proba(item.chosen.X)[:, 0])
        assert [row[2] for row in t.rows] == list(item.config.reference.predicted)
        assert [row[1] for row in t.rows] == item.chosen.y.astype(int).tolist()


def test_seed_tables_come_from_the_runs(result) -> None:
    summary = report.seeds_summary_table(result)
    for row, item in zip(summary.rows, result.functions, strict=True):
        p = item.many.predict_proba()
        ok = np.all((p > 0.5) == (item.chosen.y > 0.5), axis=1)
        assert row[1] == 8 and row[2] == ok.mean() and row[3] == ok[0]
    for item in result.functions:
        t = report.seeds_prediction_table(item)
        p = item.many.predict_proba()
        for i, row in enumerate(t.rows):
            assert row[2] == np.median(p[:, i])
            assert row[7] == pytest.approx(100 * np.mean(p[:, i] < item.config.reference.predicted[i]))


def test_markdown_has_every_table_and_only_drawn_figures(result) -> None:
    text = report.markdown(result, figures=["loss", "width"], command="backproplab reproduce --seeds 8")
    assert "`backproplab reproduce --seeds 8`" in text
    for t in report.tables(result):
        assert t.title in text
        assert t.to_markdown() in text
    assert f"]({report.FIGURES['loss'][0]})" in text and f"]({report.FIGURES['width'][0]})" in text
    assert report.FIGURES["boundaries"][0] not in text
    share = result.functions[2].stats.share_learned
    assert f"XOR: learned by {share:.1%} of 8 seeds" in text
    assert "## Beyond the report" in text


def test_markdown_without_seeds_has_no_seed_sections() -> None:
    configs = [load_config("xor").replace("training", epochs=20)]
    bare = reproduce(seeds=0, configs=configs)
    text = report.markdown(bare)
    assert "Table 1 - XOR" in text
    assert "How much can one seed tell" not in text and "Beyond the report" not in text
    item = bare.functions[0]
    ok = bool(np.all((item.predictions > 0.5) == (item.chosen.y > 0.5)))
    assert f"With seed 0: XOR {'learned' if ok else 'NOT learned'}." in text
