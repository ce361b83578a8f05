"""Explorers for run directories: re-train the run deterministically with a ``Recorder`` attached.

A run directory written by ``train`` or ``reproduce`` holds ``config.toml``
(whose ``training.seed`` is the run's seed) and ``model.npz``. The explorer
needs frames the run did not keep, so ``record_config`` trains the same config
again, bit for bit (same seed, same machine: same weights, DESIGN.md's
determinism rule), with a recorder attached — for the report's runs a fraction
of a second — and ``explore`` checks the re-trained network against
``model.npz`` before writing the page, so an explorer never shows a run other
than the one in the directory. Run directories stay small (no frames stored),
and an explorer can be made for any run written before this module existed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..core.layers import Dense
from ..errors import RunMismatchError
from ..experiments.build import Trained, train
from ..experiments.config import ExperimentConfig, load_config
from ..files.io import load_model
from ..train.recording import Recorder, Recording
from .explorer import write_explorer

EXPLORER_NAME = "explorer.html"


def describe(trained: Trained) -> str:
    """A title like ``XOR — 2-8-1 sigmoid, SGD lr 0.1, 2000 epochs, seed 0``: the network and epochs the run had.

    The layer sizes and the output are the trained network's (``digits — 64-32-10
    relu, softmax output``); a run that early stopping ended says at which epoch.
    """
    config, net = trained.config, trained.net
    m, t = config.model, config.training
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    sizes = "-".join(str(v) for v in (net.n_inputs, *(layer.fan_out for layer in dense)))
    output = "" if net.output == "sigmoid" else f", {net.output} output"
    norm = ", batch norm" if m.batch_norm else ""
    done = trained.history.epochs
    epochs = f"{t.epochs} epochs" if done >= t.epochs else f"{done} of {t.epochs} epochs (early stopping)"
    return (f"{config.title or config.name} — {sizes} {m.activation}{output}{norm}, {t.optimizer.upper()} lr {t.lr:g}, "
            f"{epochs}, seed {trained.seed}")


def record_config(
    config: ExperimentConfig, seed: int | None = None, max_frames: int = 200
) -> tuple[Recording, Trained]:
    """Train ``config`` as ``backproplab train`` does, recording its first run (seed ``seed``, default the config's).

    With ``training.runs = R`` all ``R`` runs are trained again, stacked, exactly as
    they were: run 0 of a stack can differ from the same seed trained alone in the
    last bit, and the explorer must show the run the directory holds.
    """
    from ..experiments.build import training_data_of

    seed = config.training.seed if seed is None else seed
    X, y = training_data_of(config)
    runs = config.training.runs
    recorder = Recorder(X, y, max_frames=max_frames)
    trained = train(config, seed=seed, callbacks=[recorder])
    assert recorder.recording is not None  # filled by on_fit_end
    recording = recorder.recording
    recording.meta["title"] = describe(trained) + (f" (run 0 of {runs})" if runs > 1 else "")
    return recording, trained


def same_params(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Whether two parameter dicts hold the same names and bit-identical values."""
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def find_runs(path: str | os.PathLike) -> list[Path]:
    """Run directories at ``path``: itself if it holds ``config.toml``, else its subdirectories that do."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no run directory at {path}")
    if (path / "config.toml").is_file():
        return [path]
    runs = sorted(p for p in path.iterdir() if (p / "config.toml").is_file())
    if not runs:
        raise FileNotFoundError(
            f"{path} holds no config.toml, nor do its subdirectories: not a run directory of "
            "'backproplab train' or 'backproplab reproduce'"
        )
    return runs


def explore_run(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write the explorer of one run directory (default ``RUN_DIR/explorer.html``); returns its path.

    Raises
    ------
    RunMismatchError
        If the directory's ``model.npz`` differs from the re-trained network.
    """
    run_dir = Path(run_dir)
    return write_explorer(record_run(run_dir), Path(out) if out is not None else run_dir / EXPLORER_NAME)


def record_run(run_dir: str | os.PathLike) -> Recording:
    """The recording of a run directory: its config re-trained with a recorder, checked against its model.npz.

    Raises
    ------
    RunMismatchError
        If the directory's ``model.npz`` differs from the re-trained network.
    """
    run_dir = Path(run_dir)
    config = load_config(run_dir / "config.toml")
    recording, trained = record_config(config)
    model = run_dir / "model.npz"
    if model.is_file():
        saved = load_model(model)
        if not same_params(saved.params, trained.net.params):
            raise RunMismatchError(
                f"re-training {run_dir / 'config.toml'} did not give the network in {model} (another machine, "
                "NumPy or backproplab version?); the explorer would show a different run, so none was written"
            )
    else:
        print(f"note: {run_dir} has no model.npz; the explorer shows the config re-trained", file=sys.stderr)
    return recording
