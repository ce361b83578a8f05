"""A result table: raw values plus how to print them (text, Markdown; CSV is written by ``RunDir``).

One ``Table`` feeds every output of a result (stdout, ``tables/*.csv`` at full precision, ``report.md``), so
they can never disagree. Used by the report, ``train``'s classification tables, gradcheck and sweeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Table:
    """A result table: raw values plus how to print them.

    Attributes
    ----------
    name : str
        File name stem under ``tables/``.
    title : str
    header : list of str
    rows : list of list
        Raw values (floats at full precision, strings, ints, bools).
    formats : list of str
        Format spec per column for text and Markdown (``""`` = ``str``).
    """

    name: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    formats: list[str] = field(default_factory=list)

    def cells(self) -> list[list[str]]:
        """The rows formatted for reading."""
        formats = self.formats or [""] * len(self.header)
        return [[_cell(v, f) for v, f in zip(row, formats, strict=True)] for row in self.rows]

    def to_markdown(self) -> str:
        """A Markdown pipe table with aligned columns (readable as plain text too)."""
        cells = self.cells()
        widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(self.header)]

        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

        rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        return "\n".join([line(self.header), rule, *(line(r) for r in cells)])

    def to_text(self) -> str:
        """Title and table, for stdout."""
        return f"{self.title}\n{self.to_markdown()}"


def _cell(value: Any, spec: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and not np.isfinite(value):
        return "never" if value > 0 else "-"
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)
