"""The results table of a sweep: one row per cell, medians and 5-95 % of each cell's per-seed results.

``summarize`` turns one cell's arrays (``sweep_run.measure``, concatenated over its
chunks) into a row; ``table_of`` puts the rows in grid order with one set of
columns: the swept keys, ``seeds``, ``learned`` (logic functions), the final loss,
the accuracy and the validation accuracy (where there is a validation part) as
median / p5 / p95, ``epochs_to_loss_<threshold>_median`` and ``seconds``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core import _html
from ..experiments.stats import band
from .spec import SweepSpec
from .store import csv_value


def summarize(overrides: Mapping[str, Any], arrays: Mapping[str, np.ndarray], threshold: float) -> dict[str, Any]:
    """One row of the results table: the cell's values, then medians and 5-95 % of its per-seed results."""
    row: dict[str, Any] = dict(overrides)
    row["seeds"] = len(arrays["final_loss"])
    if "learned" in arrays:
        row["learned"] = float(np.mean(arrays["learned"]))
    for name in ("final_loss", "accuracy", "val_accuracy"):
        if name in arrays:
            p5, median, p95 = (float(v) for v in band(arrays[name]))
            row.update({f"{name}_median": median, f"{name}_p5": p5, f"{name}_p95": p95})
    # inf when fewer than half of the seeds ever get below the threshold.
    row[epochs_column(threshold)] = float(np.median(arrays["epochs_to_threshold"]))
    row["seconds"] = float(arrays["seconds"])
    return row


def epochs_column(threshold: float) -> str:
    return f"epochs_to_loss_{threshold:g}_median"


@dataclass
class SweepTable:
    """The results of a sweep: one row (a dict) per cell, in grid order.

    Attributes
    ----------
    columns : list of str
        The swept keys, ``seeds``, then the statistics (see ``results.csv``).
    rows : list of dict
    keys : list of str
        The swept config keys.
    cell_keys : list of str
        The key of each row's cell (the name of its file in ``cells/``).
    computed : list of str
        Keys of the cells computed by this call (the others were read from ``out``).
    out : Path or None
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    keys: list[str]
    cell_keys: list[str]
    computed: list[str] = field(default_factory=list)
    out: Path | None = None
    metric: str = "accuracy_median"

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]

    def _repr_html_(self) -> str:
        """Jupyter's display: the rows as a table (at most ``MAX_HTML_ROWS``), numbers to 4 digits."""
        return _html.safe(lambda: table_html(self), self)

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame`` (pandas is not a dependency: install it to use this)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("SweepTable.to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(self.rows, columns=self.columns)


#: Rows a notebook shows of a sweep table (a sampled sweep may have thousands of cells).
MAX_HTML_ROWS = 200


def table_html(table: SweepTable) -> str:
    """The sweep table as HTML: one row per cell in grid order, the swept keys first."""
    def cell(value: Any, swept: bool) -> str:
        if swept or isinstance(value, (tuple, list)):
            return csv_value(value)  # as in results.csv and the CLI: [2, 4]
        if isinstance(value, float) and not np.isfinite(value):
            return "never" if value > 0 else "-"
        return _html.number(value) if value is not None else ""

    rows = [[cell(row.get(c), c in table.keys) for c in table.columns] for row in table.rows[:MAX_HTML_ROWS]]
    numeric = [c not in table.keys for c in table.columns]
    more = f"; the first {MAX_HTML_ROWS} shown" if len(table.rows) > MAX_HTML_ROWS else ""
    where = _html.escape(f"sweep directory: {table.out}") if table.out is not None else ""
    return _html.box(f"Sweep of {', '.join(table.keys)}: {len(table.rows)} cells (medians over the seeds){more}",
                     _html.table(table.columns, rows, numeric=numeric), where)


def table_of(spec: SweepSpec, cells: Sequence[dict[str, Any]], results: Sequence[dict[str, np.ndarray]],
             keys: Sequence[str]) -> SweepTable:
    rows = [summarize(cell, arrays, spec.threshold) for cell, arrays in zip(cells, results, strict=True)]
    present = set().union(*(row.keys() for row in rows))
    stats = ["learned"] + [f"{name}_{q}" for name in ("final_loss", "accuracy", "val_accuracy")
                           for q in ("median", "p5", "p95")]
    columns = [*spec.keys, "seeds", *(c for c in stats if c in present), epochs_column(spec.threshold), "seconds"]
    metric = next(m for m in ("learned", "val_accuracy_median", "accuracy_median", "final_loss_median")
                  if m in present)
    return SweepTable(columns, rows, list(spec.keys), list(keys), metric=metric)
