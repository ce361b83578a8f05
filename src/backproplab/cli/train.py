"""``backproplab train``: train one network (or many seeds at once) into a run directory.

The command is four steps, each its own function, so new options slot in where
they belong::

    config_from_args (TOML + flags, validated)  ->  train (data, network, optimizer, fit)
        ->  write_run (config.toml, history.csv, model.npz, tables/)  ->  print the results

Everything is validated before the first epoch; the run directory appears only
when all its files are written (``backproplab.rundir``), so a failure — a bad
value, a diverged loss, Ctrl-C — leaves nothing half-written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..config import to_dict
from ..errors import DivergenceError
from ..experiments.build import Trained, train
from ..experiments.stats import band, learned
from ..report import Table
from ..rundir import RunDir, check_target
from ._common import FAILED, OK, USAGE_ERRORS, Status, add_config_flags, add_output_flags, config_from_args, error
from ._common import print_json as _print_json


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "train", help="train a network from a TOML config or flags into a run directory",
        description="Train a network from a TOML config (a file, or a shipped one: and, or, xor) and/or flags, "
                    "and write config.toml, history.csv, model.npz and tables/ into a run directory.",
        epilog="examples:\n  backproplab train xor\n  backproplab train xor --epochs 5000 --seed 3\n"
               "  backproplab train --data xor --hidden 2 --activation tanh --runs 100 --out runs/xor-2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser)
    parser.add_argument("--out", metavar="DIR", help="run directory (default: runs/<config name>); "
                        "replaced if it holds an earlier run")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = Status(args.quiet or args.json)
    try:
        config = config_from_args(args)
        out = check_target(Path(args.out) if args.out else Path("runs") / config.name)
    except USAGE_ERRORS as exc:
        return error("train", exc)
    shape = "-".join(map(str, (2, *config.model.hidden, 1)))
    runs = config.training.runs
    status(f"training {config.title or config.name}: {shape} {config.model.activation}, "
           f"{config.training.epochs} epochs, seed {config.training.seed}" + (f", {runs} runs" if runs > 1 else ""))
    try:
        with RunDir(out, command="train") as run_dir:
            trained = train(config, progress=not status.quiet)
            write_run(trained, run_dir)
    except DivergenceError as exc:
        return error("train", f"{exc} Nothing was written to {out}.", FAILED)
    status(f"done in {trained.seconds:.1f} s; wrote {out}")
    summary = summarize(trained)
    if args.json:
        _print_json({**summary, "out": str(out), "config": to_dict(config)})
    else:
        print(predictions_table(trained).to_text())
        print(f"\n{_summary_line(summary)}; run directory: {out}")
    return OK


def write_run(trained: Trained, run_dir: RunDir) -> None:
    """Every file of a ``train`` run directory."""
    run_dir.write_config(trained.config)
    run_dir.write_history(trained.history)
    run_dir.save_model(trained.net)
    table = predictions_table(trained)
    run_dir.write_csv(f"tables/{table.name}.csv", table.header, table.rows)


def predictions_table(trained: Trained) -> Table:
    """Each row's input, target and predicted probability (median and 5-95 % over the runs, with runs)."""
    p = trained.predict_proba()  # (B,) or (R, B)
    inputs = [" ".join(f"{v:g}" for v in row) for row in trained.X]
    targets = [int(t) for t in trained.y]
    if p.ndim == 1:
        rows = [[x, t, float(v)] for x, t, v in zip(inputs, targets, p, strict=True)]
        return Table("predictions", f"{trained.config.title or trained.config.name}: predictions (seed "
                     f"{trained.seed})", ["inputs", "target", "predicted"], rows, ["", "", ".4f"])
    b = band(p, axis=0)  # (B, 3)
    rows = [[x, t, float(m[1]), float(m[0]), float(m[2])] for x, t, m in zip(inputs, targets, b, strict=True)]
    return Table("predictions", f"{trained.config.title or trained.config.name}: predictions over {p.shape[0]} "
                 f"runs (seeds {trained.seed}..{trained.seed + p.shape[0] - 1})",
                 ["inputs", "target", "median", "5 %", "95 %"], rows, ["", "", ".4f", ".4f", ".4f"])


def summarize(trained: Trained) -> dict[str, Any]:
    """Plain-data results: final loss, learned (share, with runs), predictions, time."""
    p = trained.predict_proba()
    ok = learned(p, trained.y)
    return {
        "epochs": trained.history.epochs,
        "final_loss": trained.final_loss(),
        "learned": float(np.mean(ok)) if np.ndim(ok) else bool(ok),
        "predictions": p,
        "seconds": trained.seconds,
    }


def _summary_line(summary: dict[str, Any]) -> str:
    loss, ok = summary["final_loss"], summary["learned"]
    if np.ndim(loss):
        return (f"final loss median {np.median(loss):.4f} over {np.size(loss)} runs; "
                f"learned by {ok:.1%} of the runs")
    return f"final loss {loss:.4f}; learned: {'yes' if ok else 'no'}"
