"""The sweep directory: ``sweep.toml``, ``cells/<key>.npz``, ``results.csv``, ``figures/``, ``report.md``.

The directory is checked before any work (``check``) and created only after every
other check has passed (``open``), so a refused sweep leaves nothing behind. Each
cell's per-seed results are one archive (``io.write_archive``, atomic), written as
soon as the cell is complete: a sweep stopped at any moment keeps every finished
cell, and a rerun with the same spec reads them instead of computing them.

Nothing that a sweep did not write is ever removed or replaced. ``manifest.json``
lists every other file the sweep wrote (a cell names itself: its archive's header
holds its key); a non-empty directory without it is not a sweep's and is
refused, and so is one where a file the sweep would write (``report.md``) is
someone else's. ``overwrite`` replaces a different sweep by removing only what its
manifest lists and its own cells.
"""

from __future__ import annotations

import contextlib
import csv
import io as _io
import json
import math
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError, SweepDirError
from ..experiments.rundir import RunDirError, check_writable
from ..files.io import read_archive, write_archive, write_text
from .spec import SweepSpec, refuse

CELL_FORMAT, CELL_VERSION = "backproplab-sweep-cell", 1
SPEC = "sweep.toml"
OUTPUTS = ("results.csv", "report.md")
MANIFEST, MANIFEST_FORMAT = "manifest.json", "backproplab-sweep-manifest"
#: Every file a sweep writes besides its cells (figure stems: ``viz.sweep_results.figures``).
TARGETS = (SPEC, *OUTPUTS, *(f"figures/{stem}.png" for stem in ("band", "heatmap", "scatter")))


class SweepStore:
    """The files of one sweep under ``path``."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.cells = self.path / "cells"

    def check(self, spec: SweepSpec, overwrite: bool = False) -> None:
        """Raise ``SweepDirError`` unless the sweep can be written here; writes nothing."""
        path = self.path
        if path.is_symlink() and not path.exists():
            raise refuse(f"`out` {path} is a symbolic link to nothing ({os.readlink(path)}); choose another output "
                         "path", SweepDirError)
        if path.exists() and not path.is_dir():
            raise refuse(f"`out` {path} exists and is not a directory; choose another output path", SweepDirError)
        if path.is_dir() and any(path.iterdir()):
            listed = self.listed()
            if listed is None:
                raise refuse(f"`out` {path} is not empty and is not a sweep directory (no {MANIFEST} of a "
                             "backproplab sweep); choose another output path", SweepDirError)
            foreign = [name for name in TARGETS if (path / name).exists() and name not in listed]
            if foreign:
                raise refuse(f"`out` {path}: {foreign[0]} was not written by this sweep, and the sweep would replace "
                             "it; move it away or choose another output path", SweepDirError)
            if not overwrite and not self.same_spec(spec):
                raise refuse(f"`out` {path} holds a different sweep ({path / SPEC}); rerun with its spec to resume "
                             "it, give `overwrite` to replace it, or choose another `out`", SweepDirError)
        try:
            check_writable(path)
        except RunDirError as exc:
            raise refuse(f"`out` {path}: {exc}", SweepDirError) from None

    def listed(self) -> set[str] | None:
        """The files ``manifest.json`` says a sweep wrote here, or None if there is no readable manifest."""
        try:
            manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(files, list) or not all(
                isinstance(f, str) for f in files):
            return None
        return set(files)

    def record(self, *paths: Path) -> None:
        """Add ``paths`` (under this directory) to ``manifest.json``, written atomically."""
        listed = (self.listed() or set()) | {p.relative_to(self.path).as_posix() for p in paths}
        write_text(self.path / MANIFEST, json.dumps({"format": MANIFEST_FORMAT, "files": sorted(listed)}, indent=1))

    def same_spec(self, spec: SweepSpec) -> bool:
        """Whether ``sweep.toml`` here describes ``spec`` (compared as data, not as text)."""
        try:
            return tomllib.loads((self.path / SPEC).read_text(encoding="utf-8")) == tomllib.loads(spec.to_toml())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False

    def open(self, spec: SweepSpec, keys: Sequence[str], overwrite: bool = False) -> None:
        """Create the directory and write ``sweep.toml``.

        With ``overwrite``, a different sweep's outputs go (those its manifest lists), and
        so do its cells except those whose key is in ``keys``: a key is a hash of everything
        that makes a cell's numbers, so a cell the new spec shares with the old one (a grid
        grown by a value) is kept. Files the manifest does not list stay, whatever their name.
        """
        if overwrite and (self.path / SPEC).is_file() and not self.same_spec(spec):
            listed = self.listed() or set()
            for name in sorted(listed):
                (self.path / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only if the sweep's figures were all there was
                (self.path / "figures").rmdir()
            for cell in self.cells.glob("*.npz"):
                if cell.stem not in keys and self.read_cell(cell.stem) is not None:  # a sweep's cell, by its header
                    cell.unlink()
        self.cells.mkdir(parents=True, exist_ok=True)
        for stale in self.cells.glob(".*.tmp"):  # an atomic write cut short by a kill
            stale.unlink(missing_ok=True)
        # Every name the sweep may write is listed before any is written: a kill between the two leaves none unlisted.
        self.record(*(self.path / name for name in TARGETS))
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
