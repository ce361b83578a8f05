"""A long run's history beside its checkpoint, in blocks of ``BLOCK`` epochs, each file written once.

A checkpoint that rewrote the whole history every time would cost more the longer
the run (at epoch 300,000, most of its time). Instead, every ``BLOCK`` epochs that
every metric has filled go into their own file in ``<checkpoint>.history/``, named
by its index and a hash of its rows, written atomically and never again; the
checkpoint keeps only the last, unfinished rows and the names of its blocks.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..core._archive import read_archive, write_archive
from .callbacks import History

FORMAT = "backproplab-history-block"
#: Epochs of history per block file.
BLOCK = 4096


def write(path: Path, history: History, written: dict[int, str]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Write the blocks of ``history`` not in ``written`` beside ``path``; return every block's name and the rest.

    ``written`` maps a block's index to its file name and is filled in here: a writer
    that passes the same dict every time writes each block once.
    """
    lengths = history.lengths()
    full = min(lengths.values(), default=0) // BLOCK  # blocks every metric has filled: they never change
    for i in range(full):
        if i not in written:
            written[i] = _write_one(path, history, i)
    return [written[i] for i in range(full)], {name: history.rows(name, full * BLOCK, n) for name, n in lengths.items()}


def folder(path: Path) -> Path:
    """The folder of the blocks of the checkpoint at ``path``: ``<path>.history``."""
    return path.with_name(path.name + ".history")


def _write_one(path: Path, history: History, i: int) -> str:
    """Write rows ``[i * BLOCK, (i + 1) * BLOCK)`` of every metric beside ``path`` (atomically); return its name.

    The name carries a hash of the rows, so a block already on disk under that
    name holds exactly these rows and is not written again.
    """
    rows = {name: history.rows(name, i * BLOCK, (i + 1) * BLOCK) for name in history.keys()}  # noqa: SIM118
    name = f"{i:06d}-{_digest(rows)}.npz"
    target = folder(path) / name
    if not target.is_file():
        write_archive(target, FORMAT, 1, {}, rows, checksum=True)
    return name


def _digest(rows: dict[str, np.ndarray]) -> str:
    """The hash in a block's name: the checkpoint that names a block vouches for its rows."""
    digest = hashlib.blake2b(digest_size=8)
    for name, a in rows.items():
        digest.update(name.encode() + a.tobytes())
    return digest.hexdigest()


def remove_unused(path: Path, keep: set[str]) -> None:
    """Delete blocks (and temporaries) the checkpoint just written does not name: an earlier run's."""
    where = folder(path)
    if where.is_dir():
        for stale in where.iterdir():
            if stale.name not in keep:
                stale.unlink(missing_ok=True)


def check_names(names: Any) -> None:
    """Raise ``ValueError`` unless ``names`` is a list of block file names as ``write`` makes them."""
    if not isinstance(names, list) or not all(isinstance(n, str) and re.fullmatch(r"\d{6}-[0-9a-f]{16}\.npz", n)
                                              for n in names):
        raise ValueError(f"bad history blocks {names!r:.80}")
    if [n[:6] for n in names] != [f"{i:06d}" for i in range(len(names))]:
        raise ValueError(f"history blocks out of order: {names!r:.80}")


def read(path: Path, names: Any, tail: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The history's rows: the blocks ``names`` (files beside ``path``) followed by the checkpoint's own."""
    check_names(names)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in tail}
    for block in names:
        try:
            _, rows = read_archive(folder(path) / block, FORMAT, 1, "history block")
        except FileNotFoundError as exc:
            raise ValueError(f"history block {block} is missing from {folder(path)}") from exc
        if rows.keys() != tail.keys() or any(len(a) != BLOCK for a in rows.values()):
            raise ValueError(f"history block {block} does not fit the checkpoint")
        if _digest(rows) != block[7:23]:  # the rows the checkpoint named, not another run's block of that index
            raise ValueError(f"history block {block} does not hold the rows its name promises")
        for name, a in rows.items():
            parts[name].append(a)
    return {name: np.concatenate([*parts[name], tail[name]]) if parts[name] else tail[name] for name in tail}
