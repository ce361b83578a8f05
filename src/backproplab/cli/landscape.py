"""``backproplab landscape RUN_DIR``: the loss landscape of a recorded run, as figures in the run directory.

``RUN_DIR`` holds a recording (``recording.npz``), or a ``config.toml`` from
which one is made by re-training the run with a recorder (as ``explore`` does,
checked against ``model.npz``) and kept as ``recording.npz``; a recording
``.npz`` may also be named directly (its figures go beside it). Three figures
are written: the loss on the PCA plane of the path with the path projected on
it, beside the true loss along the path (``landscape_path.png``); the loss on
the straight line from the initial to the final weights
(``landscape_line.png``); the Hessian's spectrum at recorded epochs
(``landscape_hessian.png``). A table of the Hessian's extreme eigenvalues and
the gradient norm per epoch goes to stdout. Everything that can be refused —
the path, the recording, the memory the plane and the Hessians need — is
refused before any work, in one line, with exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelFileError
from ..experiments.config import ConfigError
from ._common import FAILED, OK, USAGE, Status, add_output_flags, check_out, error, print_json

RECORDING_NAME = "recording.npz"
FIGURES = ("landscape_path.png", "landscape_line.png", "landscape_hessian.png")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "landscape", help="draw the loss landscape of a recorded run: PCA plane with the path, line, Hessian spectra",
        description="Write three figures into the run directory: the loss on the plane of the path's two principal "
                    "components with the path projected on it, beside the true loss along the path; the loss on the "
                    "straight line from the initial to the final weights; the exact Hessian's eigenvalues at "
                    "recorded epochs. Print the gradient norm and the Hessian's extreme eigenvalues per epoch.",
        epilog="examples:\n  backproplab train xor --out runs/xor && backproplab landscape runs/xor\n"
               "  backproplab landscape runs/xor/recording.npz --steps 81 --epochs 8",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="RUN_DIR", help="a run directory of 'train' (or a recording .npz)")
    parser.add_argument("--steps", type=int, default=51, help="points per axis of the plane (default: 51)")
    parser.add_argument("--epochs", type=int, default=6, metavar="N",
                        help="recorded epochs whose Hessian is taken, spread from the first to the last (default: 6)")
    parser.add_argument("--max-memory", type=float, default=None, metavar="GB",
                        help="refuse work needing more memory than this (default: the memory available now)")
    add_output_flags(parser)
    parser.set_defaults(func=run)


def _source(path: Path) -> tuple[Path, Path | None]:
    """``(recording file, run directory to record from or None)``; raises ``FileNotFoundError`` without a recording."""
    if path.is_file():
        return path, None
    if not path.is_dir():
        raise FileNotFoundError(f"no run directory or recording at {path}")
    if (path / RECORDING_NAME).is_file():
        return path / RECORDING_NAME, None
    if (path / "config.toml").is_file():
        return path / RECORDING_NAME, path
    raise FileNotFoundError(f"{path} holds no recording ({RECORDING_NAME}) and no config.toml to record one from: "
                            "not a run directory of 'backproplab train'")


def _check_memory(P: int, steps: int, frames: int, max_bytes: int | None) -> None:
    from ..landscape.hessian import check_memory

    check_memory(f"a {steps} x {steps} plane of {P:,} parameters", 3 * 8 * steps * steps * P, max_bytes)
    check_memory(f"{frames} Hessians of a network with {P:,} parameters ({frames} x {P:,} x {P:,} float64)",
                 8 * frames * P * P, max_bytes)


def run(args: argparse.Namespace) -> int:
    from ..landscape import Trajectory

    status = Status(args.quiet or args.json)
    try:
        steps, n_epochs = _int("--steps", args.steps, 3, 1001), _int("--epochs", args.epochs, 1, 100)
        if args.max_memory is not None and not args.max_memory > 0:
            raise ValueError(f"--max-memory must be a positive number of GB, got {args.max_memory}")
        max_bytes = None if args.max_memory is None else int(args.max_memory * 1e9)
        path = Path(args.path)
        recording_file, record_from = _source(path)
        base = path if path.is_dir() else path.parent
        prefix = "" if path.is_dir() else path.stem + "_"
        outs = [check_out(base / (prefix + name), "the figure", run_dir=False) for name in FIGURES]
        if record_from is not None:
            check_out(recording_file, "the recording", run_dir=False)
            P = _config_params(record_from)
            frames = n_epochs
        else:
            recording = _load(recording_file)
            P = sum(a[0].size for k, a in recording.arrays.items() if k.startswith("p:"))
            frames = min(n_epochs, recording.n_frames)
        _check_memory(P, steps, frames, max_bytes)
    except (FileNotFoundError, ValueError, ConfigError, ModelFileError) as exc:
        return error("landscape", exc, USAGE)
    if record_from is not None:
        from ..web.runs import RunMismatchError, record_config, same_params

        status(f"re-training {record_from} with a recorder (runs keep no frames); kept as {recording_file}")
        try:
            recording = _record(record_from, record_config, same_params, RunMismatchError)
        except RunMismatchError as exc:
            return error("landscape", exc, FAILED)
        recording.save(recording_file)
    try:
        path_ = Trajectory.from_recording(recording)
    except ValueError as exc:
        return error("landscape", exc, USAGE)
    result = _measure(path_, steps, n_epochs, status)
    _write(result, outs, recording.meta.get("title", ""))
    if args.json:
        print_json({"figures": [str(p) for p in outs], "explained": result["explained"], "epochs": result["rows"]})
    else:
        print(_table(result["rows"]))
        for out in outs:
            print(out)
    return OK


def _int(flag: str, value: int, lo: int, hi: int) -> int:
    if not lo <= value <= hi:
        raise ValueError(f"{flag} must be between {lo} and {hi}, got {value}")
    return value


def _load(path: Path) -> Any:
    from ..train.recording import Recording

    return Recording.load(path)


def _config_params(run_dir: Path) -> int:
    """Parameters of the network the run directory's config builds (checked as ``train`` checks it)."""
    from ..experiments.config import load_config
    from ._common import network_and_data

    config = load_config(run_dir / "config.toml")
    if config.model.batch_norm:
        raise ValueError("the run's network has batch norm, whose running statistics recordings do not keep; "
                         "its loss landscape cannot be rebuilt")
    net, _, _ = network_and_data(config)
    return net.n_params


def _record(run_dir: Path, record_config: Any, same_params: Any, mismatch: type[Exception]) -> Any:
    from ..experiments.config import load_config
    from ..files.io import load_model

    recording, trained = record_config(load_config(run_dir / "config.toml"))
    model = run_dir / "model.npz"
    if model.is_file() and not same_params(load_model(model).params, trained.net.params):
        raise mismatch(f"re-training {run_dir / 'config.toml'} did not give the network in {model}; the landscape "
                       "would show a different run, so nothing was written")
    return recording


def frames_for_hessian(n_frames: int, n: int) -> np.ndarray:
    """``n`` frame indices spread evenly from the first to the last (fewer if the recording has fewer)."""
    return np.unique(np.linspace(0, n_frames - 1, min(n, n_frames)).round().astype(np.int64))


def _measure(path: Any, steps: int, n_epochs: int, status: Status) -> dict[str, Any]:
    from ..core.network import Network
    from ..landscape import hessian, interpolate, spectrum, unflatten
    from ..landscape.points import evaluate

    status(f"the loss on a {steps} x {steps} PCA plane of the path ({len(path.epochs)} frames, "
           f"{path.points.shape[1]} parameters)")
    surface, coords, explained, path_loss = path.pca_plane(steps=steps)
    line = interpolate(path.at(0), path.at(len(path.epochs) - 1), path.X, path.Y, steps=steps, loss=path.loss)
    picked = frames_for_hessian(len(path.epochs), n_epochs)
    status(f"exact Hessians at {len(picked)} epochs, all on the runs axis")
    stacked = Network.from_config({**path.net.to_config(), "runs": len(picked)})
    stacked.load_state_dict(unflatten(stacked, path.points[picked]))
    spec = spectrum(hessian(stacked, path.X, path.Y, path.loss))
    grads = evaluate(path.net, path.X, path.Y, path.points[picked], path.loss, grads=True).grads
    rows = [{"epoch": int(path.epochs[f]), "loss": float(path_loss.true[f]), "grad_norm": float(np.linalg.norm(g)),
             "min_eigenvalue": float(spec.min[k]), "max_eigenvalue": float(spec.max[k]),
             "negative": int(spec.n_negative[k]), "near_zero": int(spec.n_zero[k])}
            for k, (f, g) in enumerate(zip(picked, grads, strict=True))]
    spectra = [spec.run(k) for k in range(len(picked))]
    return {"surface": surface, "coords": coords, "explained": [float(v) for v in explained], "path_loss": path_loss,
            "epochs": path.epochs, "line": line, "hessian_epochs": path.epochs[picked], "spectra": spectra,
            "rows": rows}


def _write(result: dict[str, Any], outs: list[Path], title: str) -> None:
    from ..files.io import atomic_write
    from ..landscape.figures import line_figure, path_figure, spectrum_figure

    line_title = f"{title}\ninitial to final weights, on a straight line" if title else ""
    figures = [path_figure(result["surface"], result["coords"], np.array(result["explained"]), result["path_loss"],
                           result["epochs"], title=title),
               line_figure(result["line"], title=line_title),
               spectrum_figure(result["hessian_epochs"], result["spectra"], title=title)]
    for fig, out in zip(figures, outs, strict=True):
        with atomic_write(out) as f:
            fig.savefig(f, format="png", dpi=110)


def _table(rows: list[dict[str, Any]]) -> str:
    from ..present.table import Table

    return Table("landscape", "Gradient norm and the Hessian's extreme eigenvalues along training",
                 ["epoch", "loss", "gradient norm", "smallest eigenvalue", "largest eigenvalue", "negative",
                  "near zero"],
                 [[r["epoch"], r["loss"], r["grad_norm"], r["min_eigenvalue"], r["max_eigenvalue"], r["negative"],
                   r["near_zero"]] for r in rows],
                 ["", ".4f", ".2e", ".2e", ".2e", "", ""]).to_text()
