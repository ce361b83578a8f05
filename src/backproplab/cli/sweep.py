"""``backproplab sweep``: a grid (or a sample) of configs, each over many seeds, in one table and a few figures.

    prepare (spec, --out, engine: all checked, exit 2 on any problem)  ->  run (cells/*.npz as they finish)
        ->  results.csv, figures/, report.md  ->  print the table

Ctrl-C stops at once (exit 130); every finished cell is already saved, and
rerunning the same command computes only the rest.

The library's errors name its Python parameters (``runs``, ``seed_chunk``);
``FLAGS`` turns each into this command's flag (``--runs``, ``--seed-chunk``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ..data.real import check_available
from ..errors import BackproplabError
from ..interrupt import exit_code
from ..sweeps.run import prepare
from ..sweeps.spec import for_flags, parse_grid, parse_range
from ..sweeps.summary import results_table
from ._common import FAILED, OK, USAGE_ERRORS, Status, add_config_flags, add_output_flags, config_from_args, error
from ._common import print_json as _print_json

EXAMPLES = """examples:
  backproplab sweep xor --grid 'model.hidden=[[2],[4],[8]]' --grid 'training.lr=[0.1, 1.0]' --runs 1000
  backproplab sweep xor --grid 'training.lr=[0.03, 0.1, 0.3, 1.0]' --runs 500 --workers 2
  backproplab sweep xor --sample lhs:40 --range 'training.lr=[1e-3, 1.0, "log"]' --range 'training.epochs=[200, 4000]'
  backproplab sweep xor --grid 'model.activation=["sigmoid", "tanh"]' --scheduler tcp://10.0.0.5:8786"""


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "sweep", help="train a grid or sample of configs, each over many seeds, into one table and figures",
        description="Train every cell of a grid (the product of the --grid values) or of a sample (--sample drawn "
                    "from --range), each from many seeds at once on the runs axis, and write results.csv, "
                    "cells/, sweep.toml, figures/ and report.md. Rerunning the same command computes only the "
                    "cells that are missing.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser, exclude=("--runs",))
    group = parser.add_argument_group("the sweep")
    group.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                       help="a config key (section.key, as in the TOML) and its values as a TOML array, e.g. "
                            "'training.lr=[0.1, 1.0]'; repeat for more keys (cells: the product)")
    group.add_argument("--sample", metavar="random:N|lhs:N", help="instead of a grid: draw N cells from the --range "
                       "keys, uniformly at random or by Latin hypercube")
    group.add_argument("--range", action="append", default=[], metavar="KEY=[LOW, HIGH(, \"log\")]",
                       help="a numeric key to sample, e.g. 'training.lr=[1e-3, 1.0, \"log\"]'")
    group.add_argument("--sample-seed", type=int, default=0, metavar="S", help="seed of the sample (default 0)")
    group.add_argument("--runs", type=int, default=None, metavar="N",
                       help="networks per cell, trained at once on the runs axis from the seeds --seed (default 0) "
                            "to --seed + N - 1 (default 100)")
    group.add_argument("--seeds", type=int, default=None, help=argparse.SUPPRESS)  # the old name of --runs
    group.add_argument("--seed-chunk", type=int, default=None, metavar="N",
                       help="runs per task (default: a whole cell; at least 2); changes no number")
    group.add_argument("--threshold", type=float, default=0.1,
                       help="loss of the epochs_to_loss_<threshold>_median column (default 0.1)")
    engine = group.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=int, metavar="N",
                        help="run on a local Dask cluster of N worker processes (pip install 'backproplab[sweep]')")
    engine.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    group.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                       help="how long to wait for the --scheduler and its first worker (default 5)")
    parser.add_argument("--out", metavar="DIR", help="sweep directory (default: sweeps/<config name>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a different sweep found in --out (cells the two share are kept, not recomputed; "
                             "only files that sweep wrote are removed)")
    parser.add_argument("--allow-large", action="store_true",
                        help="run a sweep estimated at more than an hour of compute or 100,000 cells (refused "
                             "otherwise; the estimate is printed before any work)")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = Status(args.quiet or args.json)
    try:
        runs = _runs(args)
        config = config_from_args(args)
        check_available(config.data.name)
        grid = [parse_grid(text) for text in args.grid]
        ranges = [parse_range(text) for text in args.range]
        if args.out is not None and not args.out.strip():
            raise ValueError("--out is empty; name a directory (or leave --out out for sweeps/<config name>)")
        out = Path(args.out) if args.out is not None else Path("sweeps") / config.name
        plan = prepare(config, grid, runs=runs, seed_chunk=args.seed_chunk, sample=args.sample,
                       ranges=ranges, sample_seed=args.sample_seed, threshold=args.threshold, workers=args.workers,
                       scheduler=args.scheduler, timeout=args.timeout, out=out, overwrite=args.overwrite,
                       allow_large=args.allow_large)
    except (*USAGE_ERRORS, ImportError) as exc:
        return error("sweep", for_flags(exc, FLAGS))
    stop = _Stop()
    try:
        with stop:
            table = plan.run(progress=not status.quiet and sys.stderr.isatty(), status=status)
    except KeyboardInterrupt:
        print(f"backproplab sweep: stopped by {stop.name}; {_kept(out)}; rerun the same command to compute the rest",
              file=sys.stderr)
        return exit_code(stop.signum)
    except (BackproplabError, ValueError, OSError) as exc:  # the work failed (a cell diverged, a write failed)
        return error("sweep", f"{for_flags(exc, FLAGS)}; {_kept(out)}", FAILED)
    computed, reused = len(table.computed), len(table) - len(table.computed)
    status(f"done: {_cells(computed)} computed, {reused} reused; wrote {out}")
    if args.json:
        _print_json({"out": str(out), "columns": table.columns, "rows": table.rows, "cell_keys": table.cell_keys,
                     "computed": table.computed})
    else:
        print(results_table(table).to_text())
        print(f"\nsweep directory: {out} (results.csv, report.md, figures/)")
    return OK


#: The Python parameter behind each flag, for errors (the library names parameters, the command its flags).
FLAGS = {"grid": "--grid", "ranges": "--range", "sample": "--sample", "sample_seed": "--sample-seed", "runs": "--runs",
         "seed_chunk": "--seed-chunk", "threshold": "--threshold", "workers": "--workers", "scheduler": "--scheduler",
         "timeout": "--timeout", "out": "--out", "overwrite": "--overwrite", "allow_large": "--allow-large"}


def _runs(args: argparse.Namespace) -> int:
    """``--runs``, or ``--seeds`` (its old name, still taken with a note on stderr)."""
    if args.seeds is None:
        return 100 if args.runs is None else args.runs
    if args.runs is not None:
        raise ValueError("--seeds is the old name of --runs; give only --runs")
    print("backproplab sweep: note: --seeds is now --runs (networks per cell); --seeds will go in a later version",
          file=sys.stderr)
    return args.seeds


class _Stop:
    """While the sweep runs, SIGTERM stops it as Ctrl-C does (the engine closes its workers, the line says why)."""

    signum = signal.SIGINT

    @property
    def name(self) -> str:
        return "Ctrl-C" if self.signum == signal.SIGINT else signal.Signals(self.signum).name

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum
        raise KeyboardInterrupt

    def __enter__(self) -> _Stop:
        self.previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGTERM, self.previous)


def _kept(out: Path) -> str:
    """What a stopped or failed sweep keeps: its finished cells, counted (none is said so)."""
    saved = len(list((out / "cells").glob("*.npz"))) if (out / "cells").is_dir() else 0
    return f"{_cells(saved)} finished before are saved in {out / 'cells'}" if saved else "no cell was finished"


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"
