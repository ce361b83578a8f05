"""``backproplab explore``: write the explorer page (one self-contained HTML file) of a run.

``PATH`` is a run directory of ``train`` (it holds ``config.toml``), the output
of ``reproduce`` (one explorer per experiment directory), or a recording
(``.npz``, from ``Recorder.recording.save``). Run directories are re-trained
with a recorder attached and checked against their ``model.npz``; see
``backproplab.web.runs``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ModelFileError
from ..experiments.config import ConfigError
from ._common import FAILED, OK, USAGE, Status, add_output_flags, check_out, error


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "explore", help="write an explorer page (self-contained HTML) showing how a run's weights and gradients evolve",
        description="Write one self-contained HTML file per run: the network's weights at every recorded epoch, "
                    "the decision boundary, the loss, the gradient flow with health signals, and the predictions. "
                    "It opens from disk, offline.",
        epilog="examples:\n  backproplab train xor --out runs/xor && backproplab explore runs/xor\n"
               "  backproplab explore backproplab-report        # and/, or/, xor/ of 'reproduce'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="PATH", help="a run directory, the output of 'reproduce', or a recording .npz")
    parser.add_argument("--out", metavar="FILE", help="the HTML file (default: explorer.html inside the run directory; "
                        "only for a single run)")
    add_output_flags(parser, json_flag=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..train.recording import Recording
    from ..web import write_explorer
    from ..web.runs import EXPLORER_NAME, RunMismatchError, explore_run, find_runs

    status = Status(args.quiet)
    path = Path(args.path)
    try:
        if path.is_file():
            out = check_out(args.out or path.with_suffix(".html"), "--out" if args.out else "the page", run_dir=False)
            recording = Recording.load(path)
            runs = []
        else:
            runs = find_runs(path)
            if args.out and len(runs) > 1:
                raise ValueError(f"--out names one file but {path} holds {len(runs)} runs; leave --out out")
            for run_dir in runs:  # every page can be written: checked before any re-training
                check_out(args.out or run_dir / EXPLORER_NAME, "--out" if args.out else "the page", run_dir=False)
    except (FileNotFoundError, ValueError, ConfigError, ModelFileError) as exc:
        return error("explore", exc, USAGE)
    try:
        if not runs:
            written = [write_explorer(recording, out)]
        else:
            written = []
            for run_dir in runs:
                status(f"re-training {run_dir} with a recorder")
                written.append(explore_run(run_dir, args.out))
    except RunMismatchError as exc:
        return error("explore", exc, FAILED)
    except (FileNotFoundError, ValueError, ConfigError, ModelFileError) as exc:
        return error("explore", exc, USAGE)
    for page in written:
        print(page)
    return OK
