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
from typing import NoReturn

from .. import __version__

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("reproduce", "train", "sweep", "gradcheck", "trace", "explore", "landscape", "playground")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors take two lines: a short usage and the error (not argparse's full usage).

    ``backproplab train``'s full usage wraps over a dozen lines; after a typo the
    user needs the command's shape and where the rest is (``--help``).
    """

    def short_usage(self) -> str:
        positionals = []
        for action in self._actions:
            if action.option_strings:
                continue
            name = action.metavar if isinstance(action.metavar, str) else action.dest
            positionals.append(f"[{name}]" if action.nargs in ("?", "*") else name)
        return f"usage: {self.prog} [options] {' '.join(positionals)}".rstrip() + f"  (all options: {self.prog} --help)"

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.short_usage()}\n{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command registered."""
    import importlib

    parser = Parser(
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
    from ._common import run_command

    parser = build_parser()
    try:
        # Unknown flags are reported by the sub-command's parser, with its usage line (parse_args would
        # report them with the top-level usage, which does not show the flags the command takes).
        args, unknown = parser.parse_known_args(argv)
        if unknown and getattr(args, "command", None):
            subparsers(parser).choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
        elif unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        print(f"{parser.short_usage()}\nbackproplab: error: name a command: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return run_command(args.command, args.func, args)


def subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """The sub-command action of ``parser`` (its ``choices`` map each command to its parser)."""
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def entrypoint() -> None:
    """Console-script entry point."""
    from ._common import crashed

    try:
        code = main()
    except BrokenPipeError:
        # The reader went away (``backproplab ... | head``): stop quietly instead of a traceback, and point
        # stdout at /dev/null so Python's own flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    except Exception as exc:  # a bug or the machine (memory, disk): one line, not a traceback
        command = next((a for a in sys.argv[1:] if a in COMMANDS), "")
        code = crashed(command or "", exc)
    sys.exit(code)
