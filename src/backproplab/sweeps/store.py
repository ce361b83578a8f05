"""The sweep directory: ``sweep.toml``, ``cells/<key>.npz``, ``results.csv``, ``figures/``, ``report.md``.

The directory is checked before any work (``check``) and created only after every
other check has passed (``open``), so a refused sweep leaves nothing behind. Each
cell's per-seed results are one archive (``io.write_archive``, atomic), written as
soon as the cell is complete: a sweep stopped at any moment keeps every finished
cell, and a rerun with the same spec reads them instead of computing them. A
directory holding another spec is refused unless ``overwrite``; only files a
sweep writes are ever deleted.
"""

from __future__ import annotations

import csv
import io as _io
import json
import math
import os
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, SweepDirError
from ..experiments.rundir import RunDirError, check_writable
from ..files.io import read_archive, write_archive, write_text
from .spec import SweepSpec

CELL_FORMAT, CELL_VERSION = "backproplab-sweep-cell", 1
SPEC = "sweep.toml"
OUTPUTS = ("results.csv", "report.md")


class SweepStore:
    """The files of one sweep under ``path``."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.cells = self.path / "cells"

    def check(self, spec: SweepSpec, overwrite: bool = False) -> None:
        """Raise ``SweepDirError`` unless the sweep can be written here; writes nothing."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise SweepDirError(f"--out {path} exists and is not a directory; choose another output path")
        if path.is_dir() and any(path.iterdir()):
            if not (path / SPEC).is_file():
                raise SweepDirError(f"--out {path} is not empty and holds no {SPEC} (not a sweep directory); "
                                    "choose another output path")
            if not overwrite and not self.same_spec(spec):
                raise SweepDirError(f"--out {path} holds a different sweep ({path / SPEC}); rerun with its spec to "
                                    "resume it, give --overwrite to replace it, or choose another --out")
        try:
            check_writable(path)
        except RunDirError as exc:
            raise SweepDirError(f"--out {path}: {exc}") from None

    def same_spec(self, spec: SweepSpec) -> bool:
        """Whether ``sweep.toml`` here describes ``spec`` (compared as data, not as text)."""
        try:
            return tomllib.loads((self.path / SPEC).read_text(encoding="utf-8")) == tomllib.loads(spec.to_toml())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False

    def open(self, spec: SweepSpec, keys: Sequence[str], overwrite: bool = False) -> None:
        """Create the directory and write ``sweep.toml``.

        With ``overwrite``, a different sweep's outputs go, and so do its cells except those
        whose key is in ``keys``: a key is a hash of everything that makes a cell's numbers,
        so a cell the new spec shares with the old one (a grid grown by a value) is kept.
        """
        if overwrite and (self.path / SPEC).is_file() and not self.same_spec(spec):
            for name in (*OUTPUTS, SPEC):
                (self.path / name).unlink(missing_ok=True)
            shutil.rmtree(self.path / "figures", ignore_errors=True)
            for cell in self.cells.glob("*.npz"):
                if cell.stem not in keys:
                    cell.unlink()
        self.cells.mkdir(parents=True, exist_ok=True)
        for stale in self.cells.glob(".*.tmp"):  # an atomic write cut short by a kill
            stale.unlink(missing_ok=True)
        write_text(self.path / SPEC, spec.to_toml())

    def cell_path(self, key: str) -> Path:
        return self.cells / f"{key}.npz"

    def read_cell(self, key: str) -> dict[str, np.ndarray] | None:
        """The saved arrays of cell ``key``, or None if it has not been computed (or its file is unreadable)."""
        path = self.cell_path(key)
        if not path.is_file():
            return None
        try:
            header, arrays = read_archive(path, CELL_FORMAT, CELL_VERSION, "sweep cell")
        except (ModelFileError, FileNotFoundError):
            return None  # recompute it
        return arrays if header.get("key") == key else None

    def write_cell(self, key: str, overrides: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        write_archive(self.cell_path(key), CELL_FORMAT, CELL_VERSION,
                      {"key": key, "overrides": {k: _plain(v) for k, v in overrides.items()}}, arrays)

    def write_results(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
        """``results.csv``: one row per cell, floats at full precision."""
        buffer = _io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_value(row.get(c)) for c in columns])
        write_text(self.path / "results.csv", buffer.getvalue())
        return self.path / "results.csv"


def csv_value(value: Any) -> str:
    """A table value as text: lists as ``[2, 4]``, floats as ``repr`` (``inf``/``nan`` as such), missing as empty."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return json.dumps(_plain(value))
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value
