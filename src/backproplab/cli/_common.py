"""What every sub-command shares: the exit-code contract, stderr/stdout discipline, config flags.

- Exit codes: 0 ok, 1 the work failed (training diverged, a check failed),
  2 bad usage (a flag, a config value, a path) — found before any work starts,
  130 interrupted by Ctrl-C. Every failure is one line on stderr,
  ``backproplab COMMAND: error: ...`` (``error``), never a traceback.
- Checks every command makes before any work, so a new command calls them too:
  ``check_out(path, flag)`` (an output path that can be created: not under a
  file, not in a read-only or virtual file system, not someone else's
  directory). Ctrl-C is turned into one line and exit 130 by ``run_command``,
  which ``backproplab.cli.main`` wraps around every command (``interrupted``
  prints the line); the console script turns any error no command caught into
  one line and exit 1 (``crashed``).
- Progress and status go to stderr (silenced by ``--quiet``); results go to
  stdout, as text or, with ``--json``, as one JSON document.
- Flags that set config values are declared once in ``CONFIG_FLAGS`` (flag,
  section, key, type, help); ``add_config_flags`` registers them and
  ``config_from_args`` merges them over a TOML file, so an error names the flag
  that set the bad value. A new option is a config field plus one row here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.network import Network, check_data
from ..experiments.build import build_network, check_config, n_outputs, training_data_of
from ..experiments.config import ConfigError, ExperimentConfig, from_dict, load_config, shipped_configs, to_dict
from ..experiments.rundir import RunDirError, check_target, check_writable
from ..files.io import load_model

#: Exit codes (130 = 128 + SIGINT, the shell's convention for Ctrl-C).
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130

#: Errors that mean "you asked for something we cannot do" (exit 2), raised before any work.
USAGE_ERRORS: tuple[type[BaseException], ...] = (ConfigError, RunDirError, FileNotFoundError, ValueError, TypeError)


def error(command: str, message: Any, code: int = USAGE) -> int:
    """Print ``backproplab COMMAND: error: MESSAGE`` on stderr and return ``code``."""
    print(f"{' '.join(filter(None, ('backproplab', command)))}: error: {message}", file=sys.stderr)
    return code


def check_out(path: str | Path, flag: str = "--out", *, run_dir: bool = True) -> Path:
    """The output path ``path`` (given with ``flag``), checked before any work; raise ``RunDirError`` if unusable.

    ``path`` must be creatable by this process: its nearest existing ancestor is
    a directory this process can write in (not a file, not ``/proc``, not a
    read-only file system) — checked by creating and removing a temporary file
    there, so nothing is left behind. With ``run_dir`` (a run directory) it must
    also be absent, empty or written by backproplab (``rundir.check_target``);
    otherwise (a file) it must not be a directory.
    """
    path = Path(path)
    try:
        if run_dir:
            check_target(path)
        elif path.is_dir():
            raise RunDirError(f"{path} is a directory; name a file")
        check_writable(path)
    except RunDirError as exc:
        raise RunDirError(f"{flag} {path}: {exc}") from None
    return path


def interrupted(command: str, what: str = "stopped; every file is written whole or not at all") -> int:
    """Print the one line of a command stopped by Ctrl-C and return ``INTERRUPTED`` (130)."""
    print(f"backproplab {command}: interrupted by Ctrl-C; {what}", file=sys.stderr)
    return INTERRUPTED


def run_command(command: str, func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``func(args)``; Ctrl-C anywhere in it becomes ``interrupted``'s one line and exit 130."""
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return interrupted(command)


def crashed(command: str, exc: Exception) -> int:
    """One line on stderr and exit 1 for an exception no command caught (the console script's last net).

    Running out of memory or an operating-system error (a full disk) is named as
    such; anything else is a bug, reported in one line unless ``BACKPROPLAB_DEBUG=1``
    asks for the traceback. ``main`` lets such exceptions through, so tests that
    call it see them.
    """
    import os

    if isinstance(exc, MemoryError):
        return error(command, f"out of memory ({exc or 'MemoryError'}); try a smaller network, batch or --runs",
                     FAILED)
    if isinstance(exc, OSError):
        return error(command, exc, FAILED)
    if os.environ.get("BACKPROPLAB_DEBUG"):
        raise exc
    return error(command, f"unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
                 "BACKPROPLAB_DEBUG=1 shows the traceback)", FAILED)


def add_output_flags(parser: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    """``--quiet`` (no progress on stderr) and, if ``json_flag``, ``--json`` (results as JSON on stdout)."""
    parser.add_argument("-q", "--quiet", action="store_true", help="print no progress or status on stderr")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print the results as one JSON document on stdout")


class Status:
    """Progress lines on stderr, each stamped with the seconds since the command started."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.elapsed:5.1f}s] {message}", file=sys.stderr, flush=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout (NaN and infinity become null)."""
    print(json.dumps(_plain(data), indent=2))


def _plain(value: Any) -> Any:
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


# --- config flags ---------------------------------------------------------------------------
def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 8 or 16,8; got {text!r}") from None


@dataclass(frozen=True)
class ConfigFlag:
    """A command-line flag that sets one config value."""

    flag: str
    section: str
    key: str
    type: Callable[[str], Any]
    help: str
    metavar: str | None = None


#: Every flag that sets a config value. Commands pick the ones that matter to them by section.
CONFIG_FLAGS: tuple[ConfigFlag, ...] = (
    ConfigFlag("--data", "data", "name", str, "data set: a logic function (and, or, xor, nand, nor, xnor, parity), a "
               "toy set (moons, circles, spirals, blobs), iris, digits, mnist1d or mnist", "NAME"),
    ConfigFlag("--n-samples", "data", "n_samples", int, "points of a toy set (moons, circles, spirals, blobs)"),
    ConfigFlag("--noise", "data", "noise", float, "noise of a toy set"),
    ConfigFlag("--val", "data", "val", float, "share of the data held out for validation (not for logic tables)"),
    ConfigFlag("--test", "data", "test", float, "share of the data held out for testing (toy sets, iris, digits)"),
    ConfigFlag("--hidden", "model", "hidden", _int_list, "hidden layer widths, comma-separated (e.g. 8 or 16,8)",
               "W[,W...]"),
    ConfigFlag("--activation", "model", "activation", str, "hidden activation (sigmoid, tanh, relu, leaky_relu, ...)"),
    ConfigFlag("--init", "model", "init", str, "weight initialisation (he_normal, he_uniform, glorot_normal, ...)"),
    ConfigFlag("--dtype", "model", "dtype", str, "float64 or float32"),
    ConfigFlag("--output", "model", "output", str, "output: sigmoid (binary), softmax (multi-class), identity"),
    ConfigFlag("--dropout", "model", "dropout", float, "dropout rate after every hidden activation"),
    ConfigFlag("--batch-norm", "model", "batch_norm", bool, "batch normalisation before every hidden activation"),
    ConfigFlag("--optimizer", "training", "optimizer", str, "sgd, momentum, nesterov, rmsprop, adam or adamw"),
    ConfigFlag("--momentum", "training", "momentum", float, "momentum of sgd/momentum/nesterov"),
    ConfigFlag("--weight-decay", "training", "weight_decay", float, "L2 weight decay (decoupled for adamw)"),
    ConfigFlag("--schedule", "training", "schedule", str, "LR schedule: constant, step, exponential, cosine"),
    ConfigFlag("--patience", "training", "patience", int, "early stopping after this many epochs without a better "
               "validation loss"),
    ConfigFlag("--lr", "training", "lr", float, "learning rate"),
    ConfigFlag("--clip-norm", "training", "clip_norm", float, "clip the global gradient norm of each run to this"),
    ConfigFlag("--epochs", "training", "epochs", int, "number of epochs"),
    ConfigFlag("--batch-size", "training", "batch_size", int, "rows per mini-batch"),
    ConfigFlag("--seed", "training", "seed", int, "seed of the initial weights (run r uses seed + r)"),
    ConfigFlag("--runs", "training", "runs", int, "networks trained at once on the runs axis"),
)


def add_config_flags(parser: argparse.ArgumentParser, sections: Sequence[str] = ("data", "model", "training"),
                     exclude: Sequence[str] = ()) -> None:
    """The ``CONFIG`` positional and the config flags of ``sections``."""
    parser.add_argument("config", nargs="?", metavar="CONFIG",
                        help=f"a TOML config file, or a shipped one by name ({', '.join(shipped_configs())}); "
                             "flags override its values (default: built-in defaults)")
    group = parser.add_argument_group("config values (override the CONFIG file)")
    for f in CONFIG_FLAGS:
        if f.section in sections and f.flag not in exclude and f.type is bool:  # a switch
            group.add_argument(f.flag, dest=f"cfg_{f.section}_{f.key}", action="store_const", const=True,
                               default=None, help=f.help)
        elif f.section in sections and f.flag not in exclude:
            group.add_argument(f.flag, dest=f"cfg_{f.section}_{f.key}", type=f.type, default=None,
                               metavar=f.metavar or f.key.upper(), help=f.help)


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """The CONFIG file (or defaults) with every given flag applied, validated.

    Raises
    ------
    ConfigError
        Naming the file key or the flag that holds a bad value.
    """
    if args.config is not None:
        base = load_config(args.config)
        source = args.config if args.config not in shipped_configs() else f"{args.config}.toml"
    else:
        base, source = None, "defaults"
    # Without a file only the flags are given: from_dict fills in the defaults (and the output that fits the data).
    raw = to_dict(base) if base is not None else {}
    flags = {}
    for f in CONFIG_FLAGS:
        value = getattr(args, f"cfg_{f.section}_{f.key}", None)
        if value is not None:
            raw.setdefault(f.section, {})[f.key] = value
            flags[(f.section, f.key)] = f.flag
    if base is None:  # name an ad-hoc experiment after its data
        data = raw.get("data", {}).get("name", "xor")
        raw["name"] = raw["title"] = str(data)
    elif flags and raw.get("description"):  # the file's description told of its own values: say what changed
        raw["description"] = describe_changes(raw["description"])
    config = from_dict(raw, source=source, flags=flags)
    check_data_flags(config, flags)
    return config


#: Appended to a config file's description when flags changed its values (its prose may name the old ones).
CHANGED = "; changed from the command line: the values below are this run's"


def describe_changes(description: str) -> str:
    """``description`` marked as changed by flags, so that its "2000 epochs" is not read as this run's.

    The mark does not depend on which flags were given, so equal configs stay equal
    (a sweep's cell and the ``train`` run of the same values hash alike).
    """
    text = description.rstrip().rstrip(".")
    return text if text.endswith(CHANGED) else text + CHANGED


#: The data sets each data flag means something for (a logic table trains on its whole table).
_DATA_FLAG_SETS = {"val": "every data set but the logic tables", "test": "toy sets, iris and digits",
                   "n_samples": "the toy sets (moons, circles, spirals, blobs)", "noise": "the toy sets"}


def check_data_flags(config: ExperimentConfig, flags: dict[tuple[str, str], str]) -> None:
    """Refuse a data flag that the chosen data set would ignore (``--val`` for xor, ``--n-samples`` for iris)."""
    from ..data import GATES, TOY

    name = config.data.name
    logic = name in GATES or name == "parity"
    ignored = {"val": logic, "test": logic or name in ("mnist1d", "mnist"),
               "n_samples": name not in TOY, "noise": name not in TOY}
    for key, useless in ignored.items():
        if useless and ("data", key) in flags:
            why = ("a logic table trains and is judged on its whole truth table" if logic else
                   f"{name} keeps its official test set" if key == "test" else f"{name} is not generated")
            raise ConfigError(f"{flags[('data', key)]} has no effect on {name}: {why}; it applies to "
                              f"{_DATA_FLAG_SETS[key]}. Leave it out")


def network_and_data(config: ExperimentConfig, model: str | None = None) -> tuple[Network, np.ndarray, np.ndarray]:
    """The network a command inspects and the training rows ``X``, ``y`` it is inspected on.

    The network is the one ``train`` builds from ``config`` at its initial weights, or the saved ``model``;
    ``train``'s own checks of the config against its data run first, and the network must fit the data.
    ``gradcheck`` and ``trace`` both start here.
    """
    dataset = check_config(config)
    X, y = training_data_of(config) if dataset is None else (dataset.X_train, dataset.y_train)
    if model:
        net = load_model(model)
        net.check_input(X, name=f"the {config.data.name} data")  # a loaded model must fit the data
    else:
        net = build_network(config, X.shape[1], n_outputs=n_outputs(config, dataset))
    check_data(net, X, y)  # the output must fit the labels
    return net, X, y
