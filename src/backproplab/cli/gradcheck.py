"""``backproplab gradcheck``: backpropagation against central differences, per parameter.

Builds the network ``train`` would build from the same config and flags (or
loads a saved model), optionally trains it first, and compares gradient
entries with central differences (``backproplab.core.gradcheck``) on a seeded sample
of the training rows. Exit code 1 if the check fails, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._checks import check_positive_float, check_positive_int
from ..core.gradcheck import GradcheckResult, check_eps, gradcheck
from ..core.network import Network
from ..data.mnist import DataFileError
from ..data.real import check_available
from ..experiments.build import train
from ..experiments.config import to_dict
from ..present.table import Table
from ._common import (
    FAILED,
    OK,
    USAGE_ERRORS,
    Status,
    add_config_flags,
    add_output_flags,
    config_from_args,
    error,
    network_and_data,
)
from ._common import print_json as _print_json

#: Networks with more parameters than this are checked on a sample of each parameter array by default.
ALL_ENTRIES_UP_TO = 2000
SAMPLED_ENTRIES = 10


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "gradcheck", help="check a network's backpropagated gradients against central differences",
        usage="backproplab gradcheck [CONFIG] [options]  (see --help)",  # short, so a usage error is two lines
        description="Compare backpropagation with central differences, entry by entry, on the network `train` "
                    "builds from the same config and flags (at its initial weights, after training with --trained, "
                    "or loaded with --model). An entry passes if |a - n| <= atol + rtol * (|a| + |n|) (a: "
                    "backpropagated, n: numerical); the relative error per parameter array is shown for reading. "
                    "Dropout is checked with one mask held fixed (training mode) and in evaluation mode; entries "
                    "whose step moves a ReLU input across 0 are reported as 'at a kink' and not judged. "
                    "Exit code 1 if any judged entry fails.",
        epilog="examples:\n  backproplab gradcheck xor\n  backproplab gradcheck xor --dropout 0.5 --batch-norm\n"
               "  backproplab gradcheck --data iris --output softmax --trained\n"
               "  backproplab gradcheck mnist1d --max-checks 5 --json\n"
               "  backproplab gradcheck xor --model runs/xor/model.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser)
    parser.add_argument("--trained", action="store_true", help="train the network (the config's epochs) first "
                        "(as trace --trained)")
    parser.add_argument("--train", dest="trained", action="store_true", help=argparse.SUPPRESS)  # its old name
    parser.add_argument("--model", metavar="PATH", help="check this saved model (model.npz) on the config's data")
    parser.add_argument("--eps", type=float, default=1e-7, help="finite-difference step (default: 1e-7, the report's)")
    parser.add_argument("--rtol", "--threshold", dest="rtol", type=float, default=1e-6,
                        help="relative tolerance of each entry (default: 1e-6)")
    parser.add_argument("--atol", type=float, default=1e-9,
                        help="absolute tolerance of each entry, the size below which a disagreement is rounding "
                             "noise (default: 1e-9)")
    parser.add_argument("--max-checks", type=int, metavar="N",
                        help=f"check N random entries per parameter array (default: all of a network of up to "
                             f"{ALL_ENTRIES_UP_TO} parameters, {SAMPLED_ENTRIES} of a larger one)")
    parser.add_argument("--max-rows", type=int, metavar="N", default=32,
                        help="check on N random training rows, a mini-batch (default: 32)")
    parser.add_argument("--check-seed", type=int, metavar="S", default=0,
                        help="seed of the entries and rows drawn (default: 0)")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The command; Ctrl-C is one line and exit 130 (``main``'s ``run_command``): nothing is written."""
    status = Status(args.quiet or args.json)
    try:
        config = config_from_args(args)
        if args.trained and args.model:
            raise ValueError("--trained and --model exclude each other: a saved model is checked as it is")
        options = {"eps": check_positive_float("--eps", args.eps),
                   "rtol": check_positive_float("--rtol", args.rtol, allow_zero=True),
                   "atol": check_positive_float("--atol", args.atol, allow_zero=True),
                   "max_rows": check_positive_int("--max-rows", args.max_rows),
                   "sample_seed": check_positive_int("--check-seed", args.check_seed, minimum=0)}
        max_checks = None if args.max_checks is None else check_positive_int("--max-checks", args.max_checks)
        check_available(config.data.name)
        net, X, y = network_and_data(config, args.model)
        if net.dtype.name != "float64":
            raise ValueError(f"gradcheck needs a float64 network, this one is {net.dtype.name} (set --dtype float64)")
    except DataFileError as exc:  # data that could not be had: a failure, not bad usage
        return error("gradcheck", exc, FAILED)
    except (*USAGE_ERRORS, ImportError) as exc:
        return error("gradcheck", exc)
    if args.model:
        status(f"checking {args.model} on {config.data.name}")
    if args.trained:
        status(f"training {config.name} for {config.training.epochs} epochs")
        net = train(config, progress=not status.quiet).net
    try:
        check_eps(options["eps"], net)
    except ValueError as exc:  # the step is lost in rounding for these weights: bad usage, said with the flag
        return error("gradcheck", str(exc).replace("eps=", "--eps ", 1))
    if max_checks is None and net.n_params > ALL_ENTRIES_UP_TO:
        max_checks = SAMPLED_ENTRIES
    rows = min(options["max_rows"], X.shape[-2])
    status(f"checking {'every entry' if max_checks is None else f'up to {max_checks} entries'} of each parameter "
           f"array ({net.n_params} parameters" + (f" x {net.runs} runs" if net.runs else "")
           + f") on {rows} of {X.shape[-2]} rows")
    result = gradcheck(net, X, y, max_checks=max_checks, **options)
    if args.json:
        _print_json({**result.to_dict(), "config": to_dict(config), "model": args.model, "trained": args.trained,
                     "rows": rows})
    else:
        print(check_table(result, net).to_text())
        print(f"\n{result.summary()}")
    return OK if result.passed else FAILED


def check_table(result: GradcheckResult, net: Network) -> Table:
    """One row per mode and parameter: shape, entries checked, at a kink, failed, relative error."""
    shapes = {name: "x".join(map(str, p.shape)) for name, p in net.params.items()}
    rows = [[d.mode, d.name, shapes[d.name], d.checked, d.kinks, d.failed, d.error] for d in result.details]
    return Table("gradcheck", f"Gradient check: backprop vs. central differences ({result.rule})",
                 ["mode", "parameter", "shape", "entries checked", "at a kink", "failed", "relative error"], rows,
                 ["", "", "", "", "", "", ".2e"])
