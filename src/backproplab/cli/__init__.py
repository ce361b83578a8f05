"""The ``backproplab`` command: one entry point, one module per sub-command.

Each sub-command module exposes ``add_parser(subparsers)``, which registers its
parser and sets ``func`` to a ``run(args) -> int``. ``main(argv)`` returns the
exit code (0 ok, 1 failed, 2 bad usage), so tests call it as a function;
``entrypoint()`` is the console script.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("reproduce", "train", "sweep", "gradcheck", "trace", "explore", "playground")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="backproplab",
        description="Backpropagation for multi-layer perceptrons, from scratch in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"backproplab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))


def entrypoint() -> None:
    """Console-script entry point."""
    try:
        code = main()
    except BrokenPipeError:
        # The reader went away (``backproplab ... | head``): stop quietly instead of a traceback, and point
        # stdout at /dev/null so Python's own flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
