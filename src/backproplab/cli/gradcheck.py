"""``backproplab gradcheck``: backpropagation against central differences, per parameter.

Builds the network a config describes (or loads a saved model), optionally
trains it first, and compares every gradient entry with a central difference
(``backproplab.gradcheck``). Exit code 1 if the check fails.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._checks import check_positive_float, check_positive_int
from ..config import to_dict
from ..experiments.build import build_network, load_data, train
from ..gradcheck import gradcheck
from ..io import load_model
from ..report import Table
from ._common import FAILED, OK, USAGE_ERRORS, Status, add_config_flags, add_output_flags, config_from_args, error
from ._common import print_json as _print_json


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "gradcheck", help="check a network's backpropagated gradients against central differences",
        description="Compare backpropagation with central differences on every parameter of the network a "
                    "config describes (at its initial weights, after training with --train, or loaded with "
                    "--model). Exit code 1 if any relative error reaches the threshold.",
        epilog="examples:\n  backproplab gradcheck xor\n  backproplab gradcheck xor --train\n"
               "  backproplab gradcheck --data xor --hidden 16,8 --activation tanh --json\n"
               "  backproplab gradcheck xor --model runs/xor/model.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser)
    parser.add_argument("--train", action="store_true", help="train the network (the config's epochs) first")
    parser.add_argument("--model", metavar="PATH", help="check this saved model (model.npz) on the config's data")
    parser.add_argument("--eps", type=float, default=1e-7, help="finite-difference step (default: 1e-7, the report's)")
    parser.add_argument("--threshold", type=float, default=1e-6, help="pass if every relative error is below this "
                        "(default: 1e-6)")
    parser.add_argument("--max-checks", type=int, metavar="N",
                        help="check at most N random entries per parameter (default: all)")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = Status(args.quiet or args.json)
    try:
        config = config_from_args(args)
        if args.train and args.model:
            raise ValueError("--train and --model exclude each other: a saved model is checked as it is")
        X, y = load_data(config)
        if args.model:
            net = load_model(args.model)
            status(f"checking {args.model} on {config.data.name}")
        else:
            net = build_network(config, X.shape[1])
        kwargs = {"eps": check_positive_float("--eps", args.eps),
                  "threshold": check_positive_float("--threshold", args.threshold),
                  "max_checks": None if args.max_checks is None else check_positive_int("--max-checks",
                                                                                        args.max_checks)}
        net.check_input(X, name=f"the {config.data.name} data")  # a loaded model must fit the data
        if net.dtype.name != "float64":
            raise ValueError(f"gradcheck needs a float64 network, this one is {net.dtype.name} (set --dtype float64)")
    except USAGE_ERRORS as exc:
        return error("gradcheck", exc)
    if args.train:
        status(f"training {config.name} for {config.training.epochs} epochs")
        net = train(config, progress=not status.quiet).net
    status(f"checking {net.n_params} parameters" + (f" x {net.runs} runs" if net.runs else ""))
    result = gradcheck(net, X, y, **kwargs)
    if args.json:
        _print_json({**result.to_dict(), "config": to_dict(config), "model": args.model, "trained": args.train})
    else:
        print(check_table(result, net).to_text())
        verdict = "PASSED" if result.passed else "FAILED"
        print(f"\n{verdict}: max relative error {result.max_error:.2e} "
              f"{'<' if result.passed else '>='} threshold {result.threshold:.0e}")
    return OK if result.passed else FAILED


def check_table(result: Any, net: Any) -> Table:
    """One row per parameter: shape, entries checked, relative error."""
    params = net.params
    rows = [[name, "x".join(map(str, params[name].shape)), result.checked[name], err]
            for name, err in result.errors.items()]
    return Table("gradcheck", "Gradient check: backprop vs. central differences",
                 ["parameter", "shape", "entries checked", "relative error"], rows, ["", "", "", ".2e"])
