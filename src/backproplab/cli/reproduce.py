"""``backproplab reproduce``: the report's experiments, figures and tables in one command.

Runs ``backproplab.experiments.reproduce`` (the report's three experiments, their
spread over many seeds, the sweeps beyond it), prints every table on stdout and
writes the run directory through ``WRITERS``, a list of functions
``writer(result, run_dir)`` called in order inside one ``RunDir`` transaction.
Another output (an explorer page, say) is one more writer, inserted before
``write_report`` if the report should link to it.

Layout of the output directory::

    report.md                      everything below, with prose
    and/ or/ xor/                  config.toml, history.csv, model.npz of the chosen seed
    seeds/<fn>_models.npz          the many-seed networks (one model file with a runs axis)
    seeds/<fn>_predictions.csv     seed, prediction per row, final loss, learned
    seeds/<fn>_loss_band.csv       epoch, loss quantiles 5 / 50 / 95 %
    tables/*.csv                   every table, full precision
    figures/*.png                  Figures 1-2, many-seed figures, sweep figures
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._checks import check_positive_int
from ..errors import DivergenceError
from ..experiments.reproduce import ReproduceResult, reproduce
from ..experiments.rundir import RunDir
from ._common import FAILED, OK, USAGE, USAGE_ERRORS, Status, add_output_flags, check_out, error

DEFAULT_OUT = "backproplab-report"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "reproduce", help="reproduce the report: its experiments, figures and tables, then many seeds",
        description="Train the report's three experiments (AND, OR: 2-4-1, 1000 epochs; XOR: 2-8-1, 2000 epochs; "
                    "sigmoid, binary cross-entropy, He init, SGD lr 0.1, batch 4) for the chosen seed and for "
                    "many seeds at once, run the sweeps beyond the report, print the tables and write "
                    "report.md, figures, tables, models and configs under --out.",
    )
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"output directory (default: ./{DEFAULT_OUT}); replaced if it holds an earlier run")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="the chosen seed of Tables 1-3 and Figures 1-2 (default: 0)")
    parser.add_argument("--runs", dest="seeds", type=int, default=1000, metavar="N",
                        help="networks per function for the statistics, trained at once from the seeds S..S+N-1 "
                             "(default: 1000; 0 skips the statistics and the sweeps)")
    parser.add_argument("--seeds", dest="seeds", type=int, help=argparse.SUPPRESS)  # the old name of --runs
    parser.add_argument("--sweep-runs", dest="sweep_seeds", type=int, default=300, metavar="N",
                        help="networks per cell of the sweeps beyond the report (default: 300; 0 skips them)")
    parser.add_argument("--sweep-seeds", dest="sweep_seeds", type=int, help=argparse.SUPPRESS)  # old name
    parser.add_argument("--sweep-epochs", type=int, default=4000, metavar="E",
                        help="epochs of the hidden-width sweep for XOR (default: 4000)")
    parser.add_argument("--no-explorer", action="store_true",
                        help="skip and/, or/, xor/explorer.html: the interactive page of each chosen-seed run")
    add_output_flags(parser, json_flag=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = Status(args.quiet)
    try:
        seed = check_positive_int("--seed", args.seed, minimum=0)
        for flag, value in (("--runs", args.seeds), ("--sweep-runs", args.sweep_seeds)):
            if check_positive_int(flag, value, minimum=0) == 1:
                raise ValueError(f"{flag} must be 0 (skip) or at least 2, got 1")
        check_positive_int("--sweep-epochs", args.sweep_epochs)
        out = check_out(Path(args.out))
    except USAGE_ERRORS as exc:
        return error("reproduce", exc)
    try:
        import matplotlib  # noqa: F401 - the figures need it; say so before any work
    except ImportError:
        return error("reproduce", "the figures need matplotlib: pip install 'backproplab[report]'", USAGE)

    try:
        result = reproduce(seed=seed, seeds=args.seeds, sweep_seeds=args.sweep_seeds,
                           sweep_epochs=args.sweep_epochs, status=status)
    except DivergenceError as exc:
        return error("reproduce", f"{exc} Nothing was written to {out}.", FAILED)
    status("writing tables, figures and report.md")
    with RunDir(out, command=command_line(args)) as run_dir:
        for writer in WRITERS:
            if not (args.no_explorer and writer is write_explorers):
                writer(result, run_dir)
    from ..present.report import tables

    for table in tables(result):
        print(table.to_text(), end="\n\n")
    print(f"report: {out / 'report.md'}")
    status(f"done in {status.elapsed:.1f} s")
    failed = [item.config.title for item in result.functions if not item.gradcheck.passed]
    if failed:  # everything is written, for inspection, but the reproduction is not sound
        return error("reproduce", f"the gradient check FAILED for {', '.join(failed)}", FAILED)
    return OK


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run: ``backproplab reproduce`` plus the non-default flags."""
    parts = ["backproplab reproduce"]
    for flag, value, default in (("--seed", args.seed, 0), ("--runs", args.seeds, 1000),
                                 ("--sweep-runs", args.sweep_seeds, 300), ("--sweep-epochs", args.sweep_epochs, 4000)):
        if value != default:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


# --- writers -------------------------------------------------------------------------------
def write_experiments(result: ReproduceResult, run_dir: RunDir) -> None:
    """Per experiment: config, history and model of the chosen seed; the many-seed models and predictions."""
    for item in result.functions:
        name = item.config.name
        run_dir.write_config(item.config.replace("training", seed=item.chosen.seed), f"{name}/config.toml")
        run_dir.write_history(item.chosen.history, f"{name}/history.csv")
        run_dir.save_model(item.chosen.net, f"{name}/model.npz")
        if item.stats is None or item.many is None:
            continue
        s = item.stats
        run_dir.save_model(item.many.net, f"seeds/{name}_models.npz")
        cols = ["p_" + "".join(str(int(v)) for v in row) for row in item.chosen.X]
        run_dir.write_csv(f"seeds/{name}_predictions.csv", ["seed", *cols, "final_loss", "learned"],
                          ([int(seed), *map(float, p), float(loss), int(ok)]
                           for seed, p, loss, ok in zip(s.seeds, s.predictions, s.final_loss, s.learned, strict=True)))
        run_dir.write_csv(f"seeds/{name}_loss_band.csv", ["epoch", "loss_p5", "loss_median", "loss_p95"],
                          ([e + 1, *map(float, row)] for e, row in enumerate(s.loss_band)))


def write_tables(result: ReproduceResult, run_dir: RunDir) -> None:
    """Every table as CSV under ``tables/``."""
    from ..present.report import tables

    for table in tables(result):
        run_dir.write_csv(f"tables/{table.name}.csv", table.header, table.rows)


def write_figures(result: ReproduceResult, run_dir: RunDir) -> None:
    """The report's figures, the many-seed figures and the sweep figures (PNG)."""
    from .. import viz
    from ..present.report import FIGURES

    chosen = [item.chosen for item in result.functions]
    builders: dict[str, Callable[[], Any]] = {"loss": lambda: viz.loss_curves(chosen),
                                              "boundaries": lambda: viz.decision_boundaries(chosen)}
    if any(item.stats is not None for item in result.functions):
        builders |= {"loss_bands": lambda: viz.loss_bands(result.functions),
                     "final_loss": lambda: viz.final_loss_histograms(result.functions),
                     "spread": lambda: viz.prediction_spread(result.functions)}
    if result.width is not None:
        xor = next(item for item in result.functions if item.config.name == "xor")
        builders["width"] = lambda: viz.width_curves(result.width, report_epochs=xor.config.training.epochs)
    if result.activations is not None:
        builders["activations"] = lambda: viz.activation_curves(result.activations)
    for key, build in builders.items():
        run_dir.save_figure(build(), FIGURES[key][0])


def write_report(result: ReproduceResult, run_dir: RunDir) -> None:
    """``report.md``, linking the figures written so far."""
    from ..present.report import FIGURES, markdown

    drawn = [key for key, (path, _) in FIGURES.items() if path in run_dir.files]
    run_dir.write_text("report.md", markdown(result, drawn, command=run_dir.command))


def write_explorers(result: ReproduceResult, run_dir: RunDir) -> None:
    """``<fn>/explorer.html``: the chosen-seed run replayed (``backproplab.web.runs``: re-trained with a recorder)."""
    from ..web import explorer_html
    from ..web.runs import RunMismatchError, record_config, same_params

    for item in result.functions:
        recording, trained = record_config(item.config.replace("training", seed=item.chosen.seed))
        if not same_params(trained.net.params, item.chosen.net.params):  # determinism broke: show nothing false
            raise RunMismatchError(f"re-training {item.config.name} with a recorder did not give the chosen network")
        run_dir.write_text(f"{item.config.name}/explorer.html", explorer_html(recording))


#: Called in order with ``(result, run_dir)``; the report comes last so it can link what the others wrote.
WRITERS: list[Callable[[ReproduceResult, RunDir], None]] = [write_experiments, write_tables, write_figures,
                                                            write_explorers, write_report]
