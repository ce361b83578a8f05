"""A finished sweep's outputs: ``results.csv``, ``figures/*.png`` and ``report.md`` (the table and the figures).

Figures need matplotlib (``pip install 'backproplab[report]'``); without it the
table and the report are still written, and the report says why there is no figure.
"""

from __future__ import annotations

from pathlib import Path

from ..files.io import atomic_write, write_text
from ..present.table import Table
from .spec import SweepSpec
from .store import SweepStore, csv_value
from .table import SweepTable


def write_outputs(store: SweepStore, spec: SweepSpec, table: SweepTable) -> list[Path]:
    """Write ``results.csv``, the figures and ``report.md`` under ``store.path``; return the figure paths."""
    store.write_results(table.columns, table.rows)
    figures = write_figures(store.path / "figures", spec, table)
    write_text(store.path / "report.md", markdown(spec, table, [f.relative_to(store.path) for f in figures]))
    return figures


def write_figures(folder: Path, spec: SweepSpec, table: SweepTable) -> list[Path]:
    try:
        from ..viz.sweep_results import figures
    except ImportError:  # matplotlib is an extra
        return []
    paths = []
    for stem, fig in figures(table, sampled=spec.sampler is not None).items():
        path = folder / f"{stem}.png"
        with atomic_write(path) as f:
            fig.savefig(f, format="png", dpi=120)
        paths.append(path)
    return paths


def results_table(table: SweepTable) -> Table:
    """The results to read: medians, the final loss's 5-95 % range, 3 significant digits (``results.csv`` has all)."""
    spans = [("learned", "learned", ".3g"), ("final_loss_median", "final loss", ".3g"),
             ("final_loss_p5", "loss 5 %", ".3g"), ("final_loss_p95", "loss 95 %", ".3g"),
             ("accuracy_median", "accuracy", ".3g"), ("val_accuracy_median", "val accuracy", ".3g")]
    spans = [s for s in spans if s[0] in table.columns]
    epochs = table.columns[-2]  # epochs_to_loss_<threshold>_median
    spans += [(epochs, f"epochs to loss {epochs.split('_')[3]}", ".0f"), ("seconds", "seconds", ".2f")]
    header = [*table.keys, "seeds", *(title for _, title, _ in spans)]
    # A cell without a column (no accuracy for a data set that has none in a grid over data.name) shows "-".
    rows = [[*(csv_value(row[k]) for k in table.keys), row["seeds"], *(row.get(c) for c, _, _ in spans)]
            for row in table.rows]
    formats = [""] * (len(table.keys) + 1) + [f for _, _, f in spans]
    return Table("results", f"sweep of {', '.join(table.keys)}: {len(table)} cells (medians over the seeds)",
                 header, rows, formats)


def markdown(spec: SweepSpec, table: SweepTable, figures: list[Path]) -> str:
    base = spec.base
    what = (f"a grid of {' x '.join(str(len(v)) for _, v in spec.grid)} cells" if spec.sampler is None
            else f"{spec.samples} cells drawn by {spec.sampler} (sample seed {spec.sample_seed})")
    lines = [f"# Sweep: {base.title or base.name}", "",
             f"{what} over {', '.join(f'`{k}`' for k in table.keys)}; each cell trained from seeds "
             f"{spec.first_seed} to {spec.first_seed + spec.runs - 1} ({spec.runs} runs). "
             f"Base config: {base.description or base.name} (see `sweep.toml`).", "",
             "Medians over the seeds (`results.csv` also has every 5 % and 95 % quantile, at full precision); "
             "`learned` is the share of seeds with every output on the right side of 0.5 (logic functions); "
             f"`epochs to loss {spec.threshold:g}` is the first epoch with training loss below {spec.threshold:g} "
             "(never: fewer than half of the seeds got there); `seconds` is training time.", "",
             results_table(table).to_markdown(), ""]
    if figures:
        lines += [f"![{f.stem}]({f.as_posix()})" for f in figures]
    else:
        lines.append("No figures: install matplotlib (`pip install 'backproplab[report]'`) to draw them.")
    return "\n".join(lines) + "\n"
