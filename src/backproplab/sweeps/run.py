"""Run a user sweep: cells x seeds, trained as stacked runs, gathered into one table in grid order.

A task is one cell and a chunk of its seeds, trained with one ``fit`` on the runs
axis (``run_task``). The data split and the shuffling are seeded by the base
config's ``training.seed`` in every chunk and only the initial weights move with
the chunk, so run ``r`` of a chunk starting at ``s`` is run ``s + r`` of one batch
of all the seeds: chunking, and the engine that runs the chunks, change no
number. The driver (``sweep``) skips cells already saved, hands the rest to the
engine, writes each cell when its last chunk is in, and builds the table::

    spec -> size and cost (checks.check_size) -> every cell (checks.check_cells) -> out dir checked
        -> engine up -> tasks of missing cells -> cells/*.npz -> table
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_bool, is_int
from ..core.metrics import accuracy
from ..data import GATES
from ..experiments.build import Trained, train
from ..experiments.config import ExperimentConfig, load_config
from ..experiments.stats import first_epoch_below, learned
from ..train.progress import in_kernel, progress_bar
from .checks import Estimate, check_cells, check_size
from .engines import DaskEngine, InProcess, make_engine
from .spec import Range, SweepSpec, cell_key, check_range, make_spec, refuse, short
from .store import SweepStore
from .summary import write_outputs
from .table import SweepTable, table_of


@dataclass(frozen=True)
class Task:
    """Seeds ``start .. start + count - 1`` of cell number ``cell`` (whose config is ``config``)."""

    cell: int
    config: ExperimentConfig
    start: int
    count: int
    threshold: float


def run_task(task: Task) -> dict[str, np.ndarray]:
    """Train one chunk of a cell and measure every run (what a worker does)."""
    trained = train(task.config, seed=task.start, runs=task.count, data_seed=task.config.training.seed)
    return measure(trained, task.threshold)


def measure(trained: Trained, threshold: float) -> dict[str, np.ndarray]:
    """Per-run results of a trained cell chunk: each array ``(R,)``, plus ``seconds`` (a scalar)."""
    runs = trained.net.runs or 1
    loss = np.reshape(trained.history.loss, (-1, runs))  # (E, R)
    out = {"seed": trained.seed + np.arange(runs),
           "final_loss": np.atleast_1d(np.asarray(trained.final_loss(), dtype=float)),
           "epochs_to_threshold": first_epoch_below(loss, threshold)}
    if trained.net.output in ("sigmoid", "softmax"):
        out["accuracy"] = np.atleast_1d(accuracy(trained.y, trained.net.predict(trained.X)))
        ds = trained.dataset
        if ds is not None and len(ds.y_val):
            out["val_accuracy"] = np.atleast_1d(accuracy(ds.y_val, trained.net.predict(ds.X_val)))
    if trained.config.data.name in GATES:
        out["learned"] = np.atleast_1d(learned(trained.predict_proba(), trained.y))
    out["seconds"] = np.asarray(trained.seconds)
    return out


def _cost(task: Task) -> int:
    """A rough, relative cost of a task, to start the costly ones first (only the order matters)."""
    training, model = task.config.training, task.config.model
    return task.count * training.epochs * (1 + sum(model.hidden) * (1 + len(model.hidden)))


def chunks(seeds: int, size: int) -> list[tuple[int, int]]:  # seeds: a cell's runs, one seed each
    """``(offset, count)`` of each task's seeds: ``size`` at a time, but never one seed alone (unless ``seeds == 1``).

    One seed trains without a runs axis, whose arithmetic can differ from the stacked
    one in the last bit; a chunk of two or more is exactly those runs of the whole batch.
    """
    size = max(size, 2)
    starts = list(range(0, seeds, size))
    if len(starts) > 1 and seeds - starts[-1] == 1:
        starts.pop()  # the previous chunk takes the last seed
    return [(s, (starts[i + 1] if i + 1 < len(starts) else seeds) - s) for i, s in enumerate(starts)]


def merge(chunks: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One cell's arrays from its chunks (in seed order); ``seconds`` is the sum of their training times."""
    merged = {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0] if name != "seconds"}
    merged["seconds"] = np.asarray(sum(float(c["seconds"]) for c in chunks))
    return merged


@dataclass
class SweepPlan:
    """A checked sweep, its directory and a running engine: everything but the work (``run``)."""

    spec: SweepSpec
    chunk: int
    store: SweepStore | None
    engine: InProcess | DaskEngine
    overwrite: bool = False
    #: Every cell's validated config, in grid order, and the sweep's size and cost.
    configs: list[ExperimentConfig] | None = None
    estimate: Estimate | None = None

    def run(self, progress: bool | None = None, status: Callable[[str], None] | None = None) -> SweepTable:
        """Compute the missing cells, write each as it completes, then the table and its outputs; close the engine."""
        say = status or (lambda message: None)
        spec, store, chunk, runs = self.spec, self.store, self.chunk, self.spec.runs
        cells = spec.cells()
        configs = self.configs or [spec.cell_config(cell) for cell in cells]
        keys = [cell_key(c, spec.threshold) for c in configs]
        try:
            if store is not None:
                store.open(spec, keys, self.overwrite)
            results = [store.read_cell(key) if store is not None else None for key in keys]
            missing = [i for i, r in enumerate(results) if r is None]
            size = str(self.estimate) if self.estimate is not None else f"{len(cells)} cells x {runs} runs"
            say(f"{size}, on {self.engine.name}: {len(missing)} to compute"
                + (f", {len(cells) - len(missing)} already in {store.cells}" if len(missing) < len(cells) else ""))
            parts = chunks(runs, chunk)
            tasks = [Task(i, configs[i], spec.first_seed + offset, count, spec.threshold)
                     for i in missing for offset, count in parts]
            # Longest first: a costly cell started last would leave the other workers idle at the end.
            tasks.sort(key=_cost, reverse=True)
            pending: dict[int, dict[int, dict[str, np.ndarray]]] = {i: {} for i in missing}
            with _bar(len(cells), len(cells) - len(missing), progress) as bar:
                for task, result in self.engine.map(run_task, tasks):
                    pending[task.cell][task.start] = result
                    if len(pending[task.cell]) < len(parts):
                        continue
                    done = pending.pop(task.cell)
                    results[task.cell] = arrays = merge([done[s] for s in sorted(done)])
                    if store is not None:
                        store.write_cell(keys[task.cell], cells[task.cell], arrays)
                    bar.set_postfix_str(f"loss {np.median(arrays['final_loss']):.4f}", refresh=False)
                    bar.update(1)
        finally:
            self.engine.close()
        table = table_of(spec, cells, results, keys)
        table.computed = [keys[i] for i in missing]
        if store is not None:
            write_outputs(store, spec, table)
            table.out = store.path
        return table


def prepare(config: ExperimentConfig | str | os.PathLike,
            grid: Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]] | None = None, *,
            runs: int = 100, seed_chunk: int | None = None, sample: str | None = None,
            ranges: Mapping[str, Sequence[Any]] | Sequence[Range] | None = None, sample_seed: int = 0,
            threshold: float = 0.1, workers: int | None = None, scheduler: str | None = None,
            timeout: float = 5.0, out: str | os.PathLike | None = None, overwrite: bool = False,
            allow_large: bool = False, seeds: int | None = None) -> SweepPlan:
    """Check everything about a sweep and start its engine; no work, no file written (see ``sweep``)."""
    runs = _runs(runs, seeds)
    base = config if isinstance(config, ExperimentConfig) else load_config(config)
    if isinstance(ranges, Mapping):
        ranges = [check_range(key, value) for key, value in ranges.items()]
    elif ranges is not None and not all(isinstance(r, Range) for r in ranges):
        raise refuse(f"`ranges` must map config keys to [low, high] or [low, high, 'log'], got {short(ranges)}",
                     TypeError)
    if isinstance(grid, Mapping):
        axes = list(grid.items())
    else:
        sequence = isinstance(grid, Sequence) and not isinstance(grid, (str, bytes))
        axes = list(grid) if sequence else [] if grid is None else None
    if axes is None or not all(isinstance(axis, tuple) and len(axis) == 2 for axis in axes):
        raise refuse(f"`grid` must map config keys to lists of values, e.g. {{'training.lr': [0.1, 1.0]}}; "
                     f"got {short(grid)}", TypeError)
    spec = make_spec(base, grid=axes, sample=sample, ranges=ranges or (), sample_seed=sample_seed, runs=runs,
                     threshold=threshold)
    chunk = runs if seed_chunk is None else seed_chunk
    if not is_int(chunk) or chunk < 1:
        raise refuse(f"`seed_chunk` must be an integer >= 1, got {short(seed_chunk)}")
    check_bool("allow_large", allow_large)
    size = check_size(spec, allow_large)  # before listing the cells: a huge sweep is refused in a moment
    configs = check_cells(spec, min(max(chunk, 2), runs))
    store = SweepStore(out) if out is not None else None
    if store is not None:
        store.check(spec, overwrite)
    # The last check: an engine that cannot start is bad usage too, found before any work.
    return SweepPlan(spec, chunk, store, make_engine(workers, scheduler, timeout), overwrite, configs, size)


def sweep(config: ExperimentConfig | str | os.PathLike,
          grid: Mapping[str, Sequence[Any]] | Sequence[tuple[str, Sequence[Any]]] | None = None, *,
          runs: int = 100, seed_chunk: int | None = None, sample: str | None = None,
          ranges: Mapping[str, Sequence[Any]] | Sequence[Range] | None = None, sample_seed: int = 0,
          threshold: float = 0.1, workers: int | None = None, scheduler: str | None = None, timeout: float = 5.0,
          out: str | os.PathLike | None = None, overwrite: bool = False, allow_large: bool = False,
          progress: bool | None = None, status: Callable[[str], None] | None = None,
          seeds: int | None = None) -> SweepTable:
    """Train every cell of a grid (or a sample) as ``runs`` networks each, and gather one table.

    Parameters
    ----------
    config : ExperimentConfig, path or shipped name
        The base config; each cell overrides some of its keys.
    grid : mapping of "section.key" to a sequence of values
        The cells are the product of the grids, the first key varying slowest.
    runs : int
        Networks per cell, on the runs axis, from the seeds ``training.seed .. training.seed + runs - 1``.
    seed_chunk : int, optional
        Runs per task (default: a whole cell per task; at least 2). Changes no number.
    sample, ranges, sample_seed
        Instead of a grid: ``"random:N"`` or ``"lhs:N"`` cells drawn from ``ranges``
        (``{"training.lr": (1e-3, 1.0, "log")}``), seeded by ``sample_seed``.
    threshold : float
        Loss of the ``epochs_to_loss_<threshold>_median`` column.
    workers, scheduler, timeout
        Engine: a local Dask cluster of ``workers`` processes, or the scheduler at
        ``scheduler`` (``tcp://HOST:PORT``, which must answer within ``timeout``
        seconds); neither: in this process.
    out : path, optional
        Sweep directory (``results.csv``, ``cells/``, ``sweep.toml``, ``figures/``,
        ``report.md``, and ``manifest.json``, the list of what the sweep wrote); cells
        already saved there are not recomputed. None: nothing written.
    overwrite : bool
        Replace a different sweep found in ``out`` (otherwise refused), keeping the cells
        it shares with this one. Only files listed in its manifest are removed.
    allow_large : bool
        Run a sweep past the size limits (more than an hour of compute, or more than
        100,000 cells, as estimated before any work); otherwise it is refused.
    progress : bool, optional
        A progress bar over cells (the last cell's median final loss beside it). None
        (the default): in a Jupyter kernel only, as a widget that stays in the cell;
        True: on stderr too; False: nothing anywhere.
    status : callable, optional
        Called with one line of status (the size and cost, what is computed, what is reused).
    seeds : int, optional
        Deprecated name of ``runs``.

    Returns
    -------
    SweepTable
        One dict per cell, in grid order.

    Raises
    ------
    ConfigError, SweepDirError, EngineError
        Before any work: a bad key or value, a cell that ``train`` would refuse, a sweep
        past the size limits, an unusable ``out``, an engine that cannot start.
    KeyboardInterrupt
        On Ctrl-C; every finished cell is saved, so rerunning resumes.

    Examples
    --------
    >>> import backproplab as bp
    >>> table = bp.sweep("xor", grid={"model.hidden": [[2], [4]]}, runs=20)  # doctest: +SKIP
    >>> [row["learned"] for row in table]  # doctest: +SKIP
    """
    plan = prepare(config, grid, runs=_runs(runs, seeds), seed_chunk=seed_chunk, sample=sample, ranges=ranges,
                   sample_seed=sample_seed, threshold=threshold, workers=workers, scheduler=scheduler,
                   timeout=timeout, out=out, overwrite=overwrite, allow_large=allow_large)
    return plan.run(progress=progress, status=status)


def _runs(runs: int, seeds: int | None) -> int:
    """``runs``, or the deprecated ``seeds`` that named it before (with a warning)."""
    if seeds is None:
        return runs
    warnings.warn("sweep(seeds=...) is now sweep(runs=...): the count of stacked networks is runs everywhere",
                  DeprecationWarning, stacklevel=3)
    return seeds


def _bar(total: int, initial: int, progress: bool | None) -> Any:
    """The bar over cells: ``progress`` None shows it in a Jupyter kernel only, True on any stderr too."""
    shown = progress or (progress is None and in_kernel())
    bar = progress_bar(total, initial=initial, desc="sweep", unit="cell", enabled=bool(shown), tty_only=False)
    if bar is None:  # a silent stand-in with the same methods
        from tqdm import tqdm

        bar = tqdm(total=total, disable=True)
    return bar
