"""What every sub-command shares: the exit-code contract, stderr/stdout discipline, config flags.

- Exit codes: 0 ok, 1 the work failed (training diverged, a check failed),
  2 bad usage (a flag, a config value, a path) — found before any work starts.
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
from typing import Any

from ..config import ConfigError, ExperimentConfig, from_dict, load_config, shipped_configs, to_dict
from ..rundir import RunDirError

#: Exit codes.
OK, FAILED, USAGE = 0, 1, 2

#: Errors that mean "you asked for something we cannot do" (exit 2), raised before any work.
USAGE_ERRORS: tuple[type[BaseException], ...] = (ConfigError, RunDirError, FileNotFoundError, ValueError, TypeError)


def error(command: str, message: Any, code: int = USAGE) -> int:
    """Print ``backproplab COMMAND: error: MESSAGE`` on stderr and return ``code``."""
    print(f"backproplab {command}: error: {message}", file=sys.stderr)
    return code


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
    ConfigFlag("--n-samples", "data", "n_samples", int, "points of a toy set"),
    ConfigFlag("--noise", "data", "noise", float, "noise of a toy set"),
    ConfigFlag("--val", "data", "val", float, "share of the data held out for validation"),
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
    return from_dict(raw, source=source, flags=flags)

