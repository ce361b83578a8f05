"""Run directories: every file a run leaves, written all at once or not at all.

A ``RunDir`` stages files in a hidden temporary directory beside the target and
moves it into place only when the ``with`` block ends without an error, so a
crash, a bad value found late, or Ctrl-C never leaves a half-written run: the
target holds either its previous complete contents or the new ones.

Replacing an existing directory takes two renames (old out of the way, new in);
between them the target is briefly absent, never partial. Only directories that
a ``RunDir`` wrote (they hold ``run.json``) or empty ones are replaced, so a typo
in ``--out`` cannot delete someone's files.

Layout written by the helpers (``DESIGN.md``, "Files a run leaves")::

    run.json       what wrote the directory, when, and the list of files
    config.toml    the validated experiment config
    history.csv    epoch, loss, accuracy (one column per run with a runs axis)
    model.npz      the trained network (``backproplab.load``)
    tables/*.csv   result tables
    figures/*.png  figures
"""

from __future__ import annotations

import csv
import errno
import io as _io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .._version import __version__
from ..core.network import Network
from ..errors import RunDirError
from ..files.io import atomic_write, save_model, umask, write_text
from ..train.loop import History
from .config import ExperimentConfig, to_toml

MARKER = "run.json"


def check_writable(path: str | os.PathLike) -> Path:
    """Raise ``RunDirError`` unless this process can create ``path`` (a file or a directory) and write beside it.

    The nearest existing ancestor of ``path``'s parent must be a directory in which
    a file can be created: a temporary file is made there and removed, which
    catches a path under a regular file, under ``/proc``, on a read-only file
    system or in a directory without write permission, before any work.
    """
    path = Path(path)
    place = path.absolute().parent
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise RunDirError(f"{place} is a file, not a directory; choose another output path")
    try:
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as exc:
        # ENOENT for an existing directory: a virtual file system (/proc, /sys) that makes no new files.
        why = "it takes no new files" if exc.errno == errno.ENOENT else exc.strerror or str(exc)
        raise RunDirError(f"cannot write in {place} ({why}); choose another output path") from None
    return path


def check_target(path: str | os.PathLike) -> Path:
    """Raise ``RunDirError`` unless ``path`` is absent, an empty directory, or a run directory.

    Call it before any work, so a bad ``--out`` fails in the first second.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path} exists and is not a directory; choose another output path")
    if path.is_dir() and any(path.iterdir()) and not (path / MARKER).is_file():
        raise RunDirError(f"{path} exists, is not empty and was not written by backproplab (no {MARKER}); "
                          "choose another output path")
    return path


class RunDir:
    """Stage a run's files, then publish them together.

    Parameters
    ----------
    path : path-like
        The directory to (re)place; see ``check_target``.
    command : str
        Recorded in ``run.json``.

    Examples
    --------
    >>> with RunDir(out, command="train") as run:           # doctest: +SKIP
    ...     run.write_config(config)
    ...     run.save_model("model.npz", net)
    """

    def __init__(self, path: str | os.PathLike, command: str = "") -> None:
        self.path = check_target(path)
        self.command = command
        self.files: list[str] = []
        self._stage: Path | None = None

    # --- the transaction ------------------------------------------------------------
    def __enter__(self) -> RunDir:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stage = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent))
        os.chmod(self._stage, 0o777 & ~umask())  # mkdtemp makes 0700; the run directory is an ordinary one
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stage, self._stage = self._stage, None
        assert stage is not None
        if exc_type is not None:
            shutil.rmtree(stage, ignore_errors=True)
            return
        try:
            self._write_marker(stage)
            self._publish(stage)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise

    def _write_marker(self, stage: Path) -> None:
        record = {"format": "backproplab-run", "package_version": __version__, "command": self.command,
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "files": sorted(self.files)}
        write_text(stage / MARKER, json.dumps(record, indent=2) + "\n")

    def _publish(self, stage: Path) -> None:
        check_target(self.path)  # it may have changed while we worked
        old = None
        if self.path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".old", dir=self.path.parent))
            os.replace(self.path, old / "run")
        try:
            os.replace(stage, self.path)
        except BaseException:
            if old is not None:  # put the previous run back
                os.replace(old / "run", self.path)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)

    # --- writers (relative paths inside the run directory) ---------------------------------
    def file(self, relpath: str) -> Path:
        """The staged location of ``relpath``, recorded in ``run.json``; parent folders are created."""
        if self._stage is None:
            raise RuntimeError("RunDir files can only be written inside its `with` block")
        target = self._stage / relpath
        if self._stage.resolve() not in target.resolve().parents:
            raise ValueError(f"{relpath!r} is not a path inside the run directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        if relpath not in self.files:
            self.files.append(relpath)
        return target

    def write_text(self, relpath: str, text: str) -> Path:
        """Write a UTF-8 text file."""
        write_text(self.file(relpath), text)
        return self.path / relpath

    def write_csv(self, relpath: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
        """Write a CSV table; floats keep full precision (``repr``)."""
        buffer = _io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
        return self.write_text(relpath, buffer.getvalue())

    def write_config(self, config: ExperimentConfig, relpath: str = "config.toml") -> Path:
        """Write the validated config (it reloads to an equal config)."""
        return self.write_text(relpath, to_toml(config))

    def write_history(self, history: History, relpath: str = "history.csv") -> Path:
        """Write ``history`` as CSV: ``epoch`` then each metric (``loss``; ``loss_r0``, ... with runs)."""
        columns: list[tuple[str, Any]] = []
        for name in history.keys():  # noqa: SIM118 - History is not a dict
            values = history[name]  # (epochs,) or (epochs, R)
            if values.ndim == 1:
                columns.append((name, values))
            else:
                columns.extend((f"{name}_r{r}", values[:, r]) for r in range(values.shape[1]))
        header = ["epoch", *(name for name, _ in columns)]
        rows = ([epoch + 1, *(float(v[epoch]) for _, v in columns)] for epoch in range(history.epochs))
        return self.write_csv(relpath, header, rows)

    def save_model(self, net: Network, relpath: str = "model.npz") -> Path:
        """Write ``net`` as a model file (``backproplab.load`` reads it)."""
        save_model(net, self.file(relpath))
        return self.path / relpath

    def save_figure(self, figure: Any, relpath: str, dpi: int = 120) -> Path:
        """Save a matplotlib ``Figure`` as PNG."""
        with atomic_write(self.file(relpath)) as f:
            figure.savefig(f, format="png", dpi=dpi, bbox_inches="tight")
        return self.path / relpath
