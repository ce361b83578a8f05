"""Before any work: a sweep's size and cost are estimated, then every cell passes ``train``'s own checks.

Two steps, in this order, so that a sweep too big to list is refused in a moment:

1. ``estimate``: the cells are counted without listing them (a product of axis
   lengths, or the sample size) and the compute time is estimated from a few of
   them (all of them when there are few). Past ``LIMIT_SECONDS`` of compute (or
   ``MAX_CELLS`` cells) the sweep is refused unless ``allow_large``.
2. ``check_cells``: every cell's config is validated, no two cells are the same
   config (``training.lr=[1, 1.0]``), and each passes the checks ``train`` makes
   before its first epoch (``build.check_config``: an output that fits the data,
   a data set big enough to split, a network that fits in memory), on the runs
   one task trains at once.

The estimate is a rough model measured on this project's own networks in float64,
on one core of a 2-core machine (2026-12-06): about 35 us per mini-batch step,
0.13 us per run and step, and 4.5 GFLOP/s of the step's ``6 x batch x params``
products. On XOR with 1 to 1,000 stacked runs, MNIST-1D and digits it came
within half to twice the time training took (the old constants, from before
issue 23's speed-ups, read 2.4-5.9x too long; float32 runs faster still). It is printed as
"about", and only decides whether to ask for ``allow_large``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from ..data import GATES, MULTICLASS
from ..data.real import check_available
from ..experiments.build import check_config
from ..experiments.config import ExperimentConfig, to_dict
from .spec import SweepSpec, _draw, cell_key, refuse

#: Compute (seconds on one core) past which a sweep needs ``allow_large``: an hour.
LIMIT_SECONDS = 3600.0
#: Cells past which a sweep needs ``allow_large``, whatever its estimate (each cell is a file and a table row).
MAX_CELLS = 100_000
#: Cells whose cost is computed for the estimate: all of a smaller sweep, a seeded sample of a larger one.
ESTIMATE_CELLS = 256
STEP_SECONDS, RUN_STEP_SECONDS, FLOPS = 3.5e-5, 1.3e-7, 4.5e9

#: What ``check_config`` reads of ``[training]`` (the split's seed, the memory of a task).
_CHECKED = ("runs", "optimizer", "momentum", "patience", "batch_size", "seed")
#: Training rows and features of the fixed data sets (before the validation and test shares are cut).
_SIZES = {"iris": (150, 4), "digits": (1797, 64), "mnist1d": (4000, 40), "mnist": (60000, 784)}


@dataclass(frozen=True)
class Estimate:
    """How big a sweep is: ``cells`` x ``runs`` networks, about ``seconds`` of compute on one core."""

    cells: int
    runs: int
    seconds: float

    def __str__(self) -> str:
        cells, runs = (f"{n:,} {word}{'s' if n != 1 else ''}" for n, word in ((self.cells, "cell"), (self.runs, "run")))
        return f"{cells} x {runs}, about {duration(self.seconds)} of compute"


def duration(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps it readable (``"3.2 h"``, ``"41 s"``)."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.2g} s"


def run_seconds(config: ExperimentConfig, runs: int) -> float:
    """Rough seconds to train ``runs`` stacked networks of ``config`` (one task)."""
    data, model, training = config.data, config.model, config.training
    if data.name in GATES or data.name == "parity":
        rows, features = (8 if data.name == "parity" else 4), (3 if data.name == "parity" else 2)
    else:
        total, features = _SIZES.get(data.name, (data.n_samples, 2))
        rows = max(1, round(total * (1 - data.val - (0 if data.name in ("mnist1d", "mnist") else data.test))))
    outputs = 10 if data.name in MULTICLASS and model.output == "softmax" else 1
    sizes = [features, *model.hidden, outputs]
    params = sum(a * b + b for a, b in pairwise(sizes))
    batch = min(training.batch_size, rows)
    steps = training.epochs * math.ceil(rows / batch)
    return steps * (STEP_SECONDS + runs * (RUN_STEP_SECONDS + 6 * batch * params / FLOPS))


def estimate(spec: SweepSpec) -> Estimate:
    """The size and rough compute of ``spec``, from all its cells or a seeded sample of ``ESTIMATE_CELLS``."""
    n = spec.n_cells
    if spec.sampler is not None:
        preview = _draw(dataclasses.replace(spec, samples=min(n, ESTIMATE_CELLS)))
    elif n <= ESTIMATE_CELLS:
        preview = spec.cells()
    else:
        rng = np.random.default_rng(0)
        preview = [spec.cell(int(i)) for i in rng.integers(0, n, ESTIMATE_CELLS)]
    costs = [run_seconds(spec.cell_config(cell), spec.runs) for cell in preview]
    return Estimate(n, spec.runs, n * sum(costs) / len(costs))


def check_size(spec: SweepSpec, allow_large: bool = False) -> Estimate:
    """The estimate of ``spec``; refused (``ConfigError``) past the limits unless ``allow_large``."""
    est = estimate(spec)
    if not allow_large and (est.seconds > LIMIT_SECONDS or est.cells > MAX_CELLS):
        why = (f"more than {MAX_CELLS:,} cells" if est.cells > MAX_CELLS
               else f"more than {duration(LIMIT_SECONDS)} of compute")
        raise refuse(f"this sweep is {est} ({why}); narrow `grid`/`sample` or lower `runs`, or confirm with "
                     "`allow_large`")
    return est


def check_cells(spec: SweepSpec, runs_per_task: int,
                available: Callable[[str], None] = check_available) -> list[ExperimentConfig]:
    """Every cell's config, each validated and passed through ``train``'s checks; no two cells alike.

    ``runs_per_task`` is the number of runs one task trains at once (what the memory
    check must fit). Raises ``ConfigError`` naming the cell; ``ImportError`` if a cell's
    data set needs an extra that is missing.
    """
    configs, seen = [], {}
    checked: dict[str, None] = {}
    for cell in spec.cells():
        config = spec.cell_config(cell)
        key = cell_key(config, spec.threshold)
        if key in seen:
            raise refuse(f"the cells {_show(seen[key])} and {_show(cell)} are the same config (a value given "
                         "twice in another form); give each value once")
        seen[key] = cell
        task = dataclasses.replace(config, training=dataclasses.replace(config.training, runs=runs_per_task))
        # train's checks read the data, the model and the memory of one task: one check per distinct such config.
        raw = to_dict(task)
        what = json.dumps([raw["data"], raw["model"], {k: raw["training"].get(k) for k in _CHECKED}], sort_keys=True)
        if what not in checked:
            available(config.data.name)
            try:
                check_config(task)
            except ValueError as exc:
                raise refuse(f"cell {_show(cell)}: {exc}") from None
            checked[what] = None
        configs.append(config)
    return configs


def _show(cell: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k} = {v!r}" for k, v in cell.items()) + "}"
