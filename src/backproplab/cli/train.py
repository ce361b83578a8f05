"""``backproplab train``: train one network (or many seeds at once) into a run directory.

The command is four steps, each its own function, so new options slot in where
they belong::

    config_from_args (TOML + flags, validated)  ->  train (data, network, optimizer, fit)
        ->  write_run (config.toml, history.csv, model.npz, tables/)  ->  print the results

Everything is validated before the first epoch; the run directory appears only
when all its files are written (``backproplab.experiments.rundir``), so a failure — a bad
value, a diverged loss, Ctrl-C — leaves nothing half-written.

While training, the run's state lives beside the run directory, in
``<out>.checkpoint/`` (``checkpoint.npz`` and the ``config.toml`` it belongs
to): written on Ctrl-C or SIGTERM (exit code 130 / 143, with the command that
resumes) and every ``--checkpoint-every`` epochs. ``--resume <out>`` continues
from it; on success the final checkpoint moves into the run directory (so a
finished run can be continued for more epochs) and ``<out>.checkpoint/`` goes.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..data import GATES
from ..data.mnist import DataFileError
from ..data.real import check_available
from ..errors import DivergenceError, TrainingInterrupted
from ..experiments.build import Trained, check_config, train
from ..experiments.config import ConfigError, ExperimentConfig, from_dict, load_config, to_dict, to_toml
from ..experiments.rundir import RunDir
from ..experiments.stats import band, learned
from ..files.io import write_text
from ..interrupt import exit_code
from ..present import classify
from ..present.table import Table
from ..train.checkpoint import checkpoint_files, load_checkpoint
from ._common import (
    CONFIG_FLAGS,
    FAILED,
    OK,
    USAGE_ERRORS,
    Status,
    add_config_flags,
    add_output_flags,
    check_out,
    config_from_args,
    describe_changes,
    error,
)
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
    parser.add_argument("--checkpoint-every", metavar="N", type=int, default=None,
                        help="also save the training state every N epochs (it is always saved on Ctrl-C/SIGTERM)")
    parser.add_argument("--resume", metavar="RUN_DIR", default=None,
                        help="continue the interrupted (or finished) run of RUN_DIR from its checkpoint; "
                             "only --epochs, --checkpoint-every, --out and output flags may be given with it")
    add_output_flags(parser)
    parser.set_defaults(func=run)


CHECKPOINT = "checkpoint.npz"


def state_dir(out: Path) -> Path:
    """Where the state of a run in progress lives: ``<out>.checkpoint/`` beside the run directory."""
    return out.with_name(f"{out.name}.checkpoint")


def resume_source(args: argparse.Namespace) -> tuple[ExperimentConfig, Path, Path, int]:
    """The config, checkpoint, run directory and epochs done that ``--resume RUN_DIR`` continues.

    RUN_DIR may be a run directory (its interrupted state ``RUN_DIR.checkpoint/`` is
    used first, else the final checkpoint of the finished run) or that state directory.
    """
    given = Path(args.resume)
    suffix = state_dir(Path("x")).name[1:]
    run_dir = given.with_name(given.name[: -len(suffix)]) if given.name.endswith(suffix) else given
    changed = [f.flag for f in CONFIG_FLAGS if f.flag != "--epochs" and getattr(args, f"cfg_{f.section}_{f.key}", None)
               is not None]
    if args.config is not None or changed:
        what = ", ".join(changed) or f"CONFIG {args.config!r}"
        raise ConfigError(f"--resume continues the run saved in {run_dir} with its own config; it cannot take {what} "
                          "(only --epochs, --checkpoint-every, --out and output flags)")
    for source in (state_dir(run_dir), run_dir):
        if (source / CHECKPOINT).is_file() and (source / "config.toml").is_file():
            break
    else:
        raise FileNotFoundError(f"--resume: no {CHECKPOINT} with its config.toml in {state_dir(run_dir)} or {run_dir}")
    config = load_config(source / "config.toml")
    done = load_checkpoint(source / CHECKPOINT).epoch
    if args.cfg_training_epochs is not None:  # continue a run for longer
        raw = to_dict(config)
        raw["training"]["epochs"] = args.cfg_training_epochs
        if raw.get("description"):
            raw["description"] = describe_changes(raw["description"])
        config = from_dict(raw, source=str(source / "config.toml"), flags={("training", "epochs"): "--epochs"})
    epochs = config.training.epochs
    if done == epochs and args.cfg_training_epochs is None:
        raise ConfigError(f"{run_dir} is finished: it trained all its {done} epochs. To train on, give the new total: "
                          f"--resume {run_dir} --epochs N with N > {done}")
    if done >= epochs:
        raise ConfigError(f"--epochs {epochs} is not more than the {done} epochs {run_dir} has done; --epochs is the "
                          f"new total: give more than {done}")
    return config, source / CHECKPOINT, run_dir, done


def run(args: argparse.Namespace) -> int:
    status = Status(args.quiet or args.json)
    try:
        if args.resume is not None:
            config, resume, default_out, done = resume_source(args)
        else:
            config, resume, done = config_from_args(args), None, 0
            default_out = Path("runs") / config.name
        check_available(config.data.name)
        out = check_out(Path(args.out) if args.out else default_out)
        every = args.checkpoint_every
        if every is not None and every < 1:
            raise ConfigError(f"--checkpoint-every must be an integer >= 1, got {every}")
        state = state_dir(out)
        if resume is None and (state / CHECKPOINT).exists():
            raise ConfigError(f"{state} holds an interrupted run: continue it with --resume {out}, or delete {state}")
        dataset = check_config(config)
    except DataFileError as exc:  # MNIST could not be had: a failure, not bad usage
        return error("train", exc, FAILED)
    except (*USAGE_ERRORS, ImportError) as exc:
        return error("train", exc)
    if config.data.name in GATES:
        shape = "-".join(map(str, (2, *config.model.hidden, 1)))
    else:
        shape = f"hidden {'-'.join(map(str, config.model.hidden))}"
    runs = config.training.runs
    epochs = config.training.epochs
    length = f"resuming from epoch {done} of {epochs}" if resume else f"{epochs} epochs"
    status(f"training {config.title or config.name}: {shape} {config.model.activation}, {length}, "
           f"seed {config.training.seed}" + (f", {runs} runs" if runs > 1 else ""))
    fresh = not (state / CHECKPOINT).exists()
    write_text(state / "config.toml", to_toml(config))  # the config a --resume of this run will read
    try:
        with RunDir(out, command="train") as run_dir:
            trained = train(config, progress=not status.quiet, checkpoint=state / CHECKPOINT,
                            checkpoint_every=every, resume=resume, dataset=dataset)
            write_run(trained, run_dir)
            for part in checkpoint_files(state / CHECKPOINT):  # the checkpoint and its history blocks
                shutil.copyfile(part, run_dir.file(part.relative_to(state).as_posix()))
    except (DivergenceError, DataFileError, TrainingInterrupted) as exc:
        if fresh and not isinstance(exc, TrainingInterrupted):  # keep only the state a --resume can use
            shutil.rmtree(state, ignore_errors=True)
        return _failed(exc, config, out)
    except KeyboardInterrupt:  # a second Ctrl-C (or one before training began): stop now
        saved = state / CHECKPOINT
        if not saved.exists():
            shutil.rmtree(state, ignore_errors=True)
        where = f"the last checkpoint, {saved}, is intact" if saved.exists() else "no checkpoint was written"
        print(f"backproplab train: stopped at once by Ctrl-C; {where}", file=sys.stderr)
        return exit_code(signal.SIGINT)
    except Exception:  # a bug (backproplab.cli reports it in one line): leave no state that blocks a rerun
        if fresh:
            shutil.rmtree(state, ignore_errors=True)
        raise
    shutil.rmtree(state, ignore_errors=True)
    status(f"done in {trained.seconds:.1f} s; wrote {out}")
    stopped = stopped_early(trained)
    if trained.dataset is not None:  # a split data set: accuracy per part instead of the truth table
        res = classify.results(trained)
        if args.json:
            _print_json({"epochs": trained.history.epochs, "stopped_early": bool(stopped), **res,
                         "diverged": trained.history.diverged, "seconds": trained.seconds, "out": str(out),
                         "config": to_dict(config)})
        else:
            print(classify.accuracy_table(trained, res).to_text())
            print(f"\nrun directory: {out} (figures/confusion_matrix.png, figures/learning_curves.png)")
            if stopped:
                print(stopped)
        return OK
    summary = summarize(trained)
    if args.json:
        _print_json({**summary, "stopped_early": bool(stopped), "out": str(out), "config": to_dict(config)})
    else:
        print(predictions_table(trained).to_text())
        print(f"\n{_summary_line(summary)}; run directory: {out}")
        if stopped:
            print(stopped)
    return OK


def _failed(exc: Exception, config: ExperimentConfig, out: Path) -> int:
    """The one message and exit code of a run that diverged, lacked its data, or was stopped by a signal."""
    if isinstance(exc, TrainingInterrupted):
        name = signal.Signals(exc.signum).name
        print(f"backproplab train: interrupted by {name} in epoch {exc.epoch} of {config.training.epochs}; "
              f"the training state is saved in {exc.checkpoint}\nresume with: backproplab train --resume {out}",
              file=sys.stderr)
        return exit_code(exc.signum)
    return error("train", f"{exc}. Nothing was written to {out}.".replace("..", "."), FAILED)


def stopped_early(trained: Trained) -> str:
    """One line saying when early stopping ended the run (empty if it ran all its epochs)."""
    done, planned = trained.history.epochs, trained.config.training.epochs
    if done >= planned:
        return ""
    return (f"early stopping: stopped after epoch {done} of {planned}, the validation loss not having improved for "
            f"{trained.config.training.patience} epochs; the model is the one of the best epoch")


def write_run(trained: Trained, run_dir: RunDir) -> None:
    """Every file of a ``train`` run directory."""
    run_dir.write_config(trained.config)
    run_dir.write_history(trained.history)
    run_dir.save_model(trained.net)
    if trained.dataset is not None:
        write_classification(trained, run_dir)
        return
    table = predictions_table(trained)
    run_dir.write_csv(f"tables/{table.name}.csv", table.header, table.rows)


def write_classification(trained: Trained, run_dir: RunDir) -> None:
    """Accuracy and per-class tables, the test confusion matrix and the learning curves of a split data set."""
    from ..viz.classification import confusion_matrix_figure, learning_curves

    res = classify.results(trained)
    for table in (classify.accuracy_table(trained, res), classify.per_class_table(trained, res)):
        run_dir.write_csv(f"tables/{table.name}.csv", table.header, table.rows)
    k = len(res["confusion_matrix"])
    run_dir.write_csv("tables/confusion_matrix.csv", ["true \\ predicted", *map(str, range(k))],
                      [[i, *map(int, row)] for i, row in enumerate(res["confusion_matrix"])])
    title = trained.config.title or trained.config.name
    part = res["part"]
    pooled = f" ({part})" if trained.net.runs is None else f" ({part}, {trained.net.runs} runs pooled)"
    run_dir.save_figure(confusion_matrix_figure(res["confusion_matrix"], title=title + pooled),
                        "figures/confusion_matrix.png")
    run_dir.save_figure(learning_curves(trained.history, title=title), "figures/learning_curves.png")


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
        "learned": {"share": float(np.mean(ok)), "count": int(np.sum(ok)), "runs": int(np.size(ok))},
        "diverged": dict(sorted(trained.history.diverged.items())),  # run -> epoch, frozen since
        "predictions": p,
        "seconds": trained.seconds,
    }


def _summary_line(summary: dict[str, Any]) -> str:
    loss, ok = summary["final_loss"], summary["learned"]["share"]
    if np.ndim(loss):
        diverged = len(summary.get("diverged", ()))
        frozen = f"; {diverged} diverged and were frozen" if diverged else ""
        return (f"final loss median {np.median(loss):.4f} over {np.size(loss)} runs; "
                f"learned by {ok:.1%} of the runs{frozen}")
    return f"final loss {loss:.4f}; learned: {'yes' if ok else 'no'}"
