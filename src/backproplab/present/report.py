"""The reproduction as tables and a Markdown report.

One ``Table`` feeds three outputs: the text printed on stdout, the CSV file under
``tables/`` (full precision) and the Markdown of ``report.md``, so the three can
never disagree. Every number comes from a ``ReproduceResult``; the prose around
the tables quotes those numbers, never constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..experiments.reproduce import FunctionResult, ReproduceResult
from ..experiments.stats import learned
from .table import Table

#: Figures of the report: key -> (file under the run directory, caption).
FIGURES: dict[str, tuple[str, str]] = {
    "loss": ("figures/fig1_loss_curves.png", "Figure 1 - training loss of the chosen seed"),
    "boundaries": ("figures/fig2_decision_boundaries.png",
                   "Figure 2 - decision boundaries over the input square (black: p = 0.5)"),
    "loss_bands": ("figures/seeds_loss_band.png", "Training loss over many seeds: median and 5-95 % band"),
    "final_loss": ("figures/seeds_final_loss.png", "Final loss over many seeds, learned or not"),
    "spread": ("figures/seeds_predictions.png",
               "Each prediction over many seeds, with the report's value and the chosen seed's"),
    "width": ("figures/beyond_xor_width.png", "Share of seeds that learned XOR, by hidden width and epoch"),
    "activations": ("figures/beyond_activations.png", "Sigmoid, tanh and ReLU hidden layers: training loss"),
}


def _inputs(item: FunctionResult) -> list[str]:
    return [" ".join(str(int(v)) for v in row) for row in item.chosen.X]


def _chosen_learned(item: FunctionResult) -> bool:
    return bool(learned(item.predictions, item.chosen.y))


def _shape(item: FunctionResult) -> str:
    return "-".join(map(str, (item.chosen.X.shape[1], *item.config.model.hidden, 1)))


# --- tables ---------------------------------------------------------------------------
def prediction_table(item: FunctionResult, number: int) -> Table:
    """Table 1-3: input, target, the report's predicted probability and ours (chosen seed)."""
    reference = item.config.reference.predicted or (None,) * len(item.chosen.y)
    rows = [[x, int(t), r, float(p)]
            for x, t, r, p in zip(_inputs(item), item.chosen.y, reference, item.predictions, strict=True)]
    title = (f"Table {number} - {item.config.title} ({_shape(item)}, {item.config.training.epochs} epochs, "
             f"seed {item.chosen.seed})")
    return Table(f"table{number}_{item.config.name}", title,
                 ["inputs", "target", "report", f"ours (seed {item.chosen.seed})"], rows, ["", "", ".4f", ".4f"])


def gradcheck_table(result: ReproduceResult) -> Table:
    """The gradient check of every trained network: entries checked, largest relative error, verdict."""
    rows = []
    for item in result.functions:
        check = item.gradcheck
        rows.append([item.config.title, sum(check.checked.values()), check.max_error, check.rtol, check.atol,
                     "passed" if check.passed else "FAILED"])
    # The verdict is per entry, not a bound on the relative error: a tiny gradient may have a large relative error.
    return Table("gradcheck", "Gradient check of the trained networks (central differences, eps 1e-7; an entry "
                 "passes when |a - n| <= atol + rtol (|a| + |n|))",
                 ["function", "parameters checked", "max relative error", "rtol", "atol", "verdict"], rows,
                 ["", "", ".2e", ".0e", ".0e", ""])


def seeds_summary_table(result: ReproduceResult) -> Table:
    """Per function: seeds, share learned, whether the chosen seed learned, final-loss median and range."""
    rows = []
    for item in result.functions:
        s = item.stats
        if s is None:
            continue
        lo, med, hi = np.percentile(s.final_loss, (5, 50, 95))
        rows.append([item.config.title, int(s.seeds.size), s.share_learned, _chosen_learned(item),
                     float(med), float(lo), float(hi)])
    return Table("seeds_summary", f"Many seeds: {result.seeds} per function (seeds {result.seed}.."
                 f"{result.seed + result.seeds - 1}); learned = all four outputs on the right side of 0.5",
                 ["function", "seeds", "learned", f"seed {result.seed} learned", "final loss median",
                  "5 %", "95 %"], rows, ["", "", ".1%", "", ".4f", ".4f", ".4f"])


def seeds_prediction_table(item: FunctionResult) -> Table:
    """Per row: the median and 5-95 % range over the seeds, the report's value and its percentile."""
    s = item.stats
    assert s is not None
    reference = item.config.reference.predicted or (None,) * len(item.chosen.y)
    percentile = s.reference_percentile if s.reference_percentile is not None else [None] * len(item.chosen.y)
    rows = [[x, int(t), float(b[1]), float(b[0]), float(b[2]), float(p), r, q]
            for x, t, b, p, r, q in zip(_inputs(item), item.chosen.y, s.prediction_band, item.predictions,
                                        reference, percentile, strict=True)]
    return Table(f"seeds_{item.config.name}", f"{item.config.title} over {s.seeds.size} seeds",
                 ["inputs", "target", "median", "5 %", "95 %", f"seed {item.chosen.seed}", "report",
                  "report's percentile"], rows, ["", "", ".4f", ".4f", ".4f", ".4f", ".4f", ".1f"])


def width_table(result: ReproduceResult, at: Sequence[int] = (500, 1000, 2000, 4000)) -> Table | None:
    """XOR: share of seeds that learned it, by hidden width, at a few epochs."""
    sweep = result.width
    if sweep is None:
        return None
    at = [e for e in at if e in sweep.epochs] or [int(sweep.epochs[-1])]
    rows = [[f"2-{w}-1", *(float(sweep.share_at(e)[i]) for e in at), float(sweep.final_loss_band[i, 1])]
            for i, w in enumerate(sweep.widths)]
    return Table("beyond_xor_width", f"XOR learned, by hidden width and epochs ({sweep.seeds} seeds each)",
                 ["network", *(f"{e} epochs" for e in at), f"median loss at {int(sweep.epochs[-1])}"], rows,
                 ["", *(".1%" for _ in at), ".4f"])


def activation_table(result: ReproduceResult) -> Table | None:
    """Sigmoid vs tanh vs ReLU: learned share, speed (epochs to the loss threshold), confidence."""
    sweep = result.activations
    if sweep is None:
        return None
    rows = []
    for i, name in enumerate(sweep.functions):
        for j, activation in enumerate(sweep.activations):
            conf = sweep.confidence_band[i, j]
            rows.append([name.upper(), activation, float(sweep.share[i, j]), float(sweep.epochs_to_threshold[i, j]),
                         float(sweep.reached[i, j]), float(conf[1]), float(conf[0])])
    t = f"{sweep.threshold:g}"
    return Table("beyond_activations", f"Hidden activation ({sweep.seeds} seeds each; He init, SGD lr 0.1, "
                 "the report's epochs)",
                 ["function", "hidden", "learned", f"median epochs to loss < {t}", f"reached loss < {t}",
                  "confidence median", "confidence 5 %"], rows, ["", "", ".1%", ".0f", ".1%", ".3f", ".3f"])


def tables(result: ReproduceResult) -> list[Table]:
    """Every table of the reproduction, in the report's order."""
    out = [prediction_table(item, i + 1) for i, item in enumerate(result.functions)]
    out.append(gradcheck_table(result))
    if any(item.stats is not None for item in result.functions):
        out.append(seeds_summary_table(result))
        out.extend(seeds_prediction_table(item) for item in result.functions if item.stats is not None)
    out.extend(t for t in (width_table(result), activation_table(result)) if t is not None)
    return out


# --- report.md --------------------------------------------------------------------------
def markdown(result: ReproduceResult, figures: Sequence[str] = (), command: str = "backproplab reproduce") -> str:
    """``report.md``: the tables, the figures (keys of ``FIGURES`` that were drawn) and what they show."""
    by_name = {t.name: t for t in tables(result)}
    out: list[str] = []

    def table(name: str) -> None:
        t = by_name.get(name)
        if t is not None:
            out.extend([f"**{t.title}**", "", t.to_markdown(), ""])

    def figure(key: str) -> None:
        if key in figures:
            path, caption = FIGURES[key]
            out.extend([f"![{caption}]({path})", "", f"*{caption}.*", ""])

    out += ["# Backpropagation on AND, OR and XOR: the report reproduced", "",
            f"Generated by `{command}`. Every number below is computed by this run; the report's own",
            "values are shown beside ours. Setup (the report's): sigmoid in every layer, binary cross-entropy,",
            "He initialisation, plain gradient descent with learning rate 0.1, batch size 4 (the whole truth "
            "table).", "", "## The report's experiments", ""]
    for i, item in enumerate(result.functions):
        table(f"table{i + 1}_{item.config.name}")
    verdicts = ", ".join(f"{i.config.title} {'learned' if _chosen_learned(i) else 'NOT learned'}"
                         for i in result.functions)
    out += [f"With seed {result.seed}: {verdicts}.", ""]
    table("gradcheck")
    figure("loss")
    figure("boundaries")

    if "seeds_summary" in by_name:
        out += ["## How much can one seed tell?", "",
                f"The same experiments trained from {result.seeds} seeds at once (the runs axis). Run 0 of each "
                f"batch starts from the chosen seed {result.seed}'s weights; its final predictions differ from "
                f"the single run's by at most {max(i.run0_difference for i in result.functions if i.stats):.1e} "
                "(batched and single matrix products may round differently in the last bit).", ""]
        table("seeds_summary")
        out += [_seed_sentence(item) for item in result.functions if item.stats is not None] + [""]
        for item in result.functions:
            table(f"seeds_{item.config.name}")
        out += ["The report's percentile is the share of seeds whose prediction lies below the report's value: "
                "near 50 the report's run was typical, near 0 or 100 it was an outlier.", ""]
        figure("loss_bands")
        figure("final_loss")
        figure("spread")

    if result.width is not None or result.activations is not None:
        out += ["## Beyond the report", ""]
    if result.width is not None:
        sweep = result.width
        out += ["*How wide must the hidden layer be, and how long must training run, for XOR to be learned?* "
                f"One run of {int(sweep.epochs[-1])} epochs per width; with full-batch gradient descent the "
                "network after e epochs of it is the network of an e-epoch run.", ""]
        table("beyond_xor_width")
        out += [_width_sentence(result), ""]
        figure("width")
    if result.activations is not None:
        out += ["*What do tanh and ReLU hidden layers change against sigmoid?* Same initialisation, learning "
                "rate, batch and epochs; only the hidden activation changes (the output stays sigmoid). "
                "Confidence is the mean probability given to the right answer (0.5: a coin toss).", ""]
        table("beyond_activations")
        out += [_activation_sentence(sweep) for sweep in [result.activations]] + [""]
        figure("activations")

    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    if seconds:
        out += ["---", "", f"Compute time: {seconds}.", ""]
    return "\n".join(out)


# --- sentences quoting the numbers ----------------------------------------------------------
def _seed_sentence(item: FunctionResult) -> str:
    s = item.stats
    assert s is not None
    text = f"- {item.config.title}: learned by {s.share_learned:.1%} of {s.seeds.size} seeds"
    if s.reference_percentile is not None and item.config.reference.predicted is not None:
        i = int(np.argmax(np.abs(s.reference_percentile - 50)))
        text += (f"; the report's least typical value is {item.config.reference.predicted[i]:.4f} for input "
                 f"{_inputs(item)[i]}, at the {s.reference_percentile[i]:.1f}th percentile of our seeds")
    return text + "."


def _width_sentence(result: ReproduceResult) -> str:
    sweep = result.width
    assert sweep is not None
    xor = next(item for item in result.functions if item.config.name == "xor")
    budget, last = xor.config.training.epochs, int(sweep.epochs[-1])
    parts = []
    for i, width in enumerate(sweep.widths):
        at = sweep.share_at(budget)[i] if budget in sweep.epochs else None
        parts.append(f"2-{width}-1 " + (f"{at:.0%} -> " if at is not None else "") + f"{sweep.share[i, -1]:.0%}")
    return (f"Share of seeds that learned XOR after {budget} epochs (the report's) -> after {last}: "
            + ", ".join(parts) + ".")


def _activation_sentence(sweep: Any) -> str:
    lines = []
    for i, name in enumerate(sweep.functions):
        cells = []
        for j, activation in enumerate(sweep.activations):
            epochs = sweep.epochs_to_threshold[i, j]
            speed = f"{epochs:.0f} epochs" if np.isfinite(epochs) else "not within the budget"
            cells.append(f"{activation} {speed} (confidence {sweep.confidence_band[i, j, 1]:.3f})")
        lines.append(f"- {name.upper()}, median epochs to loss < {sweep.threshold:g}: " + "; ".join(cells) + ".")
    return "\n".join(lines)
