"""Compare two ``backproplab reproduce --out DIR`` folders: identical files, and how far the others differ.

Usage::

    python benchmarks/compare_outputs.py BEFORE_DIR AFTER_DIR

For every file of the two folders: identical bytes, or for CSV tables and
``.npz`` model files the largest relative difference of their numbers (cells
that are not numbers must be equal), so a change that reorders floating-point
sums can be shown to change the last bits only. Figures (PNG) and the report
are listed, not compared (they embed the numbers and timings).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # equal infinities and NaN in both places count as equal
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(a - b))
    return float(np.max(diff / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300), initial=0.0))


def compare_csv(x: Path, y: Path) -> float:
    rows_x, rows_y = list(csv.reader(x.open())), list(csv.reader(y.open()))
    if len(rows_x) != len(rows_y):
        raise SystemExit(f"{x.name}: {len(rows_x)} rows against {len(rows_y)}")
    worst = 0.0
    for rx, ry in zip(rows_x, rows_y, strict=True):
        for cx, cy in zip(rx, ry, strict=True):
            try:
                fx, fy = float(cx), float(cy)
            except ValueError:
                if cx != cy:
                    raise SystemExit(f"{x.name}: {cx!r} against {cy!r}") from None
                continue
            worst = max(worst, _relative(fx, fy))
    return worst


def compare_npz(x: Path, y: Path) -> float:
    with np.load(x, allow_pickle=False) as ax, np.load(y, allow_pickle=False) as ay:
        if sorted(ax.files) != sorted(ay.files):
            raise SystemExit(f"{x.name}: arrays {sorted(ax.files)} against {sorted(ay.files)}")
        worst = 0.0
        for name in ax.files:
            a, b = ax[name], ay[name]
            if a.dtype.kind in "fc":
                worst = max(worst, _relative(a, b))
            elif not np.array_equal(a, b):
                raise SystemExit(f"{x.name}: {name} differs")
        return worst


def main(argv: list[str]) -> int:
    before, after = Path(argv[0]), Path(argv[1])
    files = sorted(p.relative_to(before) for p in before.rglob("*") if p.is_file())
    same = 0
    for rel in files:
        x, y = before / rel, after / rel
        if not y.exists():
            print(f"missing after: {rel}")
        elif x.read_bytes() == y.read_bytes():
            same += 1
        elif rel.suffix == ".csv":
            print(f"{rel}: numbers differ by at most {compare_csv(x, y):.2e} (relative); every other cell equal")
        elif rel.suffix == ".npz":
            print(f"{rel}: arrays differ by at most {compare_npz(x, y):.2e} (relative)")
        else:
            print(f"{rel}: differs (not compared)")
    print(f"{same} of {len(files)} files identical")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
