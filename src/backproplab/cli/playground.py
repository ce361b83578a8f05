"""``backproplab playground``: a local web page that trains a network live (needs the ``web`` extra)."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from typing import Any

from ..interrupt import exit_code
from ._common import FAILED, OK, USAGE, add_output_flags, error


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "playground", help="start a local playground: pick data, layers, optimizer; train live; check gradients",
        description="Start a local web server and open its page: choose a data set (logic functions, 2-D toy sets), "
                    "hidden layers, activation, optimizer, learning rate and batch size, then play, pause, step or "
                    "reset while backproplab trains, and check the gradients against finite differences. "
                    "Needs the web extra: pip install 'backproplab[web]'. Stop it with Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    add_output_flags(parser, json_flag=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        return error("playground", f"--port must be from 1 to 65535, got {args.port}")
    try:
        from ..web.server import LOOPBACK, serve
    except ImportError as exc:
        return error("playground", f"the playground needs Starlette and uvicorn ({exc.name} is missing): "
                     "pip install 'backproplab[web]'", USAGE)
    if args.host not in LOOPBACK:
        print(f"backproplab playground: warning: listening on {args.host}, reachable from other machines; "
              "anyone who can reach it can start training on this machine", file=sys.stderr)
    try:  # uvicorn would log a bind failure and exit; test the address first to say why, and how to fix it
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        return error("playground", f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                     "try another --port", FAILED)
    if not args.quiet:
        print(f"backproplab playground: http://{args.host}:{args.port}/  (Ctrl-C to stop)", file=sys.stderr)
    stopped_by = serve(args.host, args.port, open_browser=not args.no_browser)
    if stopped_by is not None:
        name = "Ctrl-C" if stopped_by == signal.SIGINT else signal.Signals(stopped_by).name
        print(f"backproplab playground: stopped by {name}; nothing to save", file=sys.stderr)
        return exit_code(stopped_by)
    return OK
