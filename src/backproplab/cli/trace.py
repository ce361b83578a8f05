"""``backproplab trace``: one step of backpropagation on one input row, every number with its formula.

Builds the network a config describes (at its initial weights, after training
with ``--trained``, or loaded with ``--model``), works one row of the config's
data through it with ``backproplab.explain.trace.trace`` and prints the forward pass,
the loss, the deltas, the gradients and the optimizer's update: as text, as one
JSON document (``--json``) or as Markdown tables with LaTeX (``--markdown``).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._checks import check_positive_int
from ..data.mnist import DataFileError
from ..data.real import check_available
from ..errors import DivergenceError
from ..experiments.build import build_optimizer, train
from ..explain.trace import trace
from ..explain.trace_text import to_markdown, to_text
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


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "trace",
        # One line: the default usage lists every config flag over a dozen lines, which buries an error.
        usage="%(prog)s [CONFIG] [--input X1,X2,... | --row N] [--trained | --model PATH] [--run R] [--eval] "
              "[--json | --markdown] [config flags]",
        help="work one step of backpropagation on one input row, every number with its formula",
        description="Work one input row through the network a config describes (at its initial weights, after "
                    "training with --trained, or loaded with --model): every layer's z = a_prev @ W + b and "
                    "a = f(z), the loss, the output delta, each hidden delta = (delta_next @ W_next^T) * f'(z), "
                    "dL/dW = a_prev^T delta and dL/db = delta, then the update the config's optimizer would take.",
        epilog="examples:\n  backproplab trace xor\n  backproplab trace xor --input 1,0 --trained\n"
               "  backproplab trace xor --markdown > step.md\n"
               "  backproplab trace --data moons --hidden 4 --activation tanh --row 3 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--input", metavar="X1,X2,...",
                       help="the input row to trace, comma-separated; must be a row of the config's data "
                            "(default: its first row)")
    which.add_argument("--row", type=int, metavar="N", help="trace row N of the config's training data")
    state = parser.add_mutually_exclusive_group()
    state.add_argument("--trained", action="store_true", help="train the network (the config's epochs) first")
    state.add_argument("--model", metavar="PATH", help="trace this saved model (model.npz)")
    parser.add_argument("--run", type=int, metavar="R",
                        help="which run of a network with a runs axis to trace (required for one)")
    parser.add_argument("--eval", action="store_true",
                        help="evaluation mode: no dropout, batch norm with its running statistics")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the trace as one JSON document on stdout")
    output.add_argument("--markdown", action="store_true", help="print the trace as Markdown tables with LaTeX")
    parser.add_argument("--full", action="store_true",
                        help=f"with --json or --markdown, print every number even of a network of more than "
                             f"{FULL_LIMIT:,} parameters (refused otherwise: the text output summarises big matrices)")
    add_output_flags(parser, json_flag=False)
    parser.set_defaults(func=run)


#: Parameters past which --json and --markdown need --full: each prints every weight three times (W, dL/dW,
#: W_new): measured on a 64-2000-2000-10 network, 405 MB of JSON (98 bytes a parameter), 112 MB of Markdown.
FULL_LIMIT = 100_000


def check_size(n_params: int, args: argparse.Namespace) -> None:
    """Refuse a --json or --markdown trace of more than ``FULL_LIMIT`` parameters unless --full."""
    if n_params > FULL_LIMIT and (args.json or args.markdown) and not args.full:
        what = "--json" if args.json else "--markdown"
        size = n_params * (98 if args.json else 27) / 2**20
        raise ValueError(f"{what} prints every number: for this network of {n_params:,} parameters about "
                         f"{size:,.0f} MB; give --full to print it all, leave out {what} for the "
                         "text output (it summarises big matrices), or trace a smaller --hidden")


def _input_row(text: str) -> np.ndarray:
    try:
        return np.array([float(part) for part in text.split(",")])
    except ValueError:
        raise ValueError(f"--input expects comma-separated numbers like 1,0; got {text!r}") from None


def _pick_row(X: np.ndarray, args: argparse.Namespace, data: str) -> int:
    """Index of the row to trace: ``--row``, the row equal to ``--input``, or 0."""
    if args.row is not None:
        row = check_positive_int("--row", args.row, minimum=0)
        if row >= len(X):
            raise ValueError(f"--row {row} is out of range: the {data} training data has {len(X)} rows")
        return row
    if args.input is None:
        return 0
    x = _input_row(args.input)
    if x.shape[0] != X.shape[1]:
        raise ValueError(f"--input has {x.shape[0]} numbers but the {data} data has {X.shape[1]} features")
    hits = np.flatnonzero(np.all(np.isclose(X, x, rtol=0, atol=1e-9), axis=1))
    if not len(hits):
        raise ValueError(f"--input {args.input} is not a row of the {data} training data (its target is "
                         "unknown); pick a row by index with --row N")
    return int(hits[0])


def run(args: argparse.Namespace) -> int:
    """The command; Ctrl-C is one line and exit 130 (``main``'s ``run_command``): nothing is written."""
    status = Status(args.quiet or args.json or args.markdown)
    try:
        config = config_from_args(args)
        check_available(config.data.name)
        net, X, y = network_and_data(config, args.model)
        row = _pick_row(X, args, config.data.name)
        if net.runs is None and args.run is not None:
            raise ValueError("--run picks a run of a network with a runs axis; this network has none")
        if net.runs is not None and args.run is None:
            raise ValueError(f"the network has {net.runs} runs (training.runs = {net.runs}); trace works one "
                             f"network: pick one with --run R (0..{net.runs - 1})")
        if net.runs is not None and not 0 <= args.run < net.runs:
            raise ValueError(f"--run {args.run} is out of range: the network has runs 0..{net.runs - 1}")
        check_size(net.n_params, args)
        optimizer = build_optimizer(config)
    except DataFileError as exc:  # data that could not be had: the work failed
        return error("trace", exc, FAILED)
    except (*USAGE_ERRORS, ImportError) as exc:
        return error("trace", exc)
    try:
        if args.trained:
            status(f"training {config.name} for {config.training.epochs} epochs")
            net = train(config, progress=not status.quiet).net
    except DivergenceError as exc:
        return error("trace", f"training failed: {exc}", FAILED)
    result = trace(net, X[row], y[row], optimizer=optimizer, train=not args.eval, run=args.run)
    if args.json:
        _print_json({**result.to_dict(), "row": row, "trained": args.trained, "model": args.model})
    elif args.markdown:
        print(to_markdown(result))
    else:
        print(to_text(result))
    return OK
