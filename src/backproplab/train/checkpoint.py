"""Checkpoints: the whole state of a training run in one file, to resume it bit for bit.

A checkpoint holds everything ``fit`` needs to go on as if it had never
stopped: the parameters, the optimizer's state (its per-parameter buffers,
step counter ``t`` and learning rate), the state of the random generator that
shuffles the data (and of any generator a layer owns, such as dropout's), the
number of completed epochs, the history so far and which runs have diverged.
A checkpoint taken in the middle of an epoch (on Ctrl-C) also keeps that
epoch's row order, its running loss sums and the parameters at its start.

The file is the same kind of archive as a model file (``backproplab.files.io``): a
NumPy ``.npz`` read with ``allow_pickle=False`` plus a JSON header, format
``backproplab-checkpoint``, written atomically, so a run killed while writing
leaves the previous checkpoint intact. Resuming checks that the network, the
optimizer, the batch size, the shuffling, the loss and the data are those the
checkpoint was written for, and refuses otherwise: a resumed run that silently
trained on other data would not be the run it claims to continue.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import is_int, is_number
from ..core._archive import read_archive, write_archive
from ..core.network import Network
from ..core.optim import Optimizer
from ..errors import ModelFileError
from ..files.io import network_from
from . import _history_blocks
from .callbacks import Callback, History

FORMAT = "backproplab-checkpoint"
#: 2: the history's rows in blocks of ``_history_blocks.BLOCK`` epochs, each in its own file beside the checkpoint and
#: written once; the last rows in the checkpoint itself. 1 (still read): every row in the checkpoint.
FORMAT_VERSION = 2


@dataclass
class Position:
    """Where inside an epoch a checkpoint was taken (``None`` at an epoch's end).

    Attributes
    ----------
    start : int
        Index (into ``order``) of the first row not yet trained on in this epoch.
    order : ndarray or None
        The epoch's row permutation ``(B,)``, or ``None`` when rows are not shuffled.
    totals : dict of ndarray
        The epoch's running sums, by name, as the training loop gave them: each ``()`` or ``(R,)``.
    last_good : dict of ndarray
        Parameters and buffers at the start of the epoch, restored if it diverges.
    """

    start: int
    order: np.ndarray | None
    totals: dict[str, np.ndarray]
    last_good: dict[str, np.ndarray]


@dataclass
class Checkpoint:
    """A training state read from a checkpoint file (see ``load_checkpoint``)."""

    path: Path
    architecture: dict[str, Any]
    params: dict[str, np.ndarray]
    optimizer: dict[str, Any]  # {"type", "repr", "lr", "t"}
    optimizer_state: dict[str, dict[str, np.ndarray]]
    rng_state: dict[str, Any]  # bit-generator state of fit's shuffling generator
    layer_rngs: dict[str, dict[str, Any]]  # "{layer}._rngs.{k}" -> bit-generator state (state door: "{layer}.rng.{k}")
    buffers: dict[str, np.ndarray]  # named as Network.buffers: batch norm's running statistics
    epoch: int  # completed epochs
    metrics: dict[str, np.ndarray]  # history: name -> (epochs,) or (epochs, R)
    diverged: dict[int, int]  # run -> epoch in which its loss stopped being finite
    fit: dict[str, Any] = field(default_factory=dict)  # settings the run must keep to resume
    position: Position | None = None
    callbacks: dict[int, tuple[str, dict[str, np.ndarray]]] = field(default_factory=dict)  # index -> (type, state)

    @property
    def state(self) -> dict[str, np.ndarray]:
        """The network's state dict (``Network.state_dict()``): the file's parameters and buffers together."""
        return {**self.params, **self.buffers}

    @property
    def net(self) -> Network:
        """A new network with the checkpoint's architecture and state."""
        return network_from(self.architecture, self.state, self.path)

    @property
    def history(self) -> History:
        """The history up to the checkpoint, as a new ``History``."""
        history = History(self.architecture.get("runs"))
        for name, rows in self.metrics.items():
            for row in rows:
                history.append(**{name: row})
        history.diverged.update(self.diverged)
        return history


def save_checkpoint(
    path: str | os.PathLike,
    *,
    net: Network,
    optimizer: Optimizer,
    rng: np.random.Generator,
    history: History,
    epoch: int,
    fit: dict[str, Any] | None = None,
    position: Position | None = None,
    callbacks: Sequence[Callback] = (),
    blocks: dict[int, str] | None = None,
) -> Path:
    """Write the training state to ``path`` atomically and return the path.

    Parameters
    ----------
    net, optimizer : the objects being trained.
    rng : numpy.random.Generator
        The generator that shuffles the data.
    history : History
        Metrics of the completed epochs.
    epoch : int
        Number of completed epochs.
    fit : dict, optional
        Settings the resumed run must match (batch size, shuffling, loss, data fingerprint).
    position : Position, optional
        Where inside epoch ``epoch + 1`` training stopped.
    callbacks : sequence of Callback
        Their ``state_dict()`` is saved, by position in the sequence.
    blocks : dict, optional
        Blocks of history already written, by index (filled in here): a writer
        that passes the same dict to every save writes each block once, so a
        checkpoint costs the same at epoch 300,000 as at epoch 500.
    """
    buffers = net.buffers  # the file keeps the state dict's two kinds apart: "param/0.W", "buffer/1.running_mean"
    net_state = net.state_dict(generators=True)
    arrays = {f"{'buffer' if name in buffers else 'param'}/{name}": a for name, a in net_state.items()
              if isinstance(a, np.ndarray)}
    opt = optimizer.state_dict()
    for name, slots in opt["buffers"].items():
        for key, value in slots.items():
            arrays[f"optim/{name}/{key}"] = np.asarray(value)
    path = Path(path)
    names, tail = _history_blocks.write(path, history, {} if blocks is None else blocks)
    arrays.update({f"history/{name}": rows for name, rows in tail.items()})
    saved_callbacks = {}
    for i, cb in enumerate(callbacks):
        if state := cb.state_dict():
            saved_callbacks[str(i)] = type(cb).__name__
            arrays.update({f"callback/{i}/{key}": np.asarray(value) for key, value in state.items()})
    header: dict[str, Any] = {
        "architecture": net.to_config(),
        "optimizer": {"type": type(optimizer).__name__, "repr": repr(optimizer), "lr": optimizer.lr, "t": opt["t"]},
        "rng": rng.bit_generator.state,
        "layer_rngs": {_file_key(name): g for name, g in net_state.items() if not isinstance(g, np.ndarray)},
        "epoch": int(epoch),
        "diverged": {str(run): int(e) for run, e in history.diverged.items()},
        "callbacks": saved_callbacks,
        "fit": dict(fit or {}),
        "position": None,
        "history_blocks": names,
    }
    if position is not None:
        header["position"] = {"start": int(position.start), "shuffled": position.order is not None}
        arrays.update({f"position/{key}": np.asarray(value) for key, value in position.totals.items()})
        if position.order is not None:
            arrays["position/order"] = position.order
        for name, value in position.last_good.items():
            arrays[f"position/last_good/{name}"] = value
    write_archive(path, FORMAT, FORMAT_VERSION, header, arrays, checksum=True)  # every part: see load_checkpoint
    _history_blocks.remove_unused(path, set(names))
    return path


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint`` (or ``fit(checkpoint=...)``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a backproplab checkpoint of a format version this
        package reads, or is damaged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "run.ckpt"
    ...     history = bp.fit(net, X, y, optimizer=bp.Adam(0.01), epochs=20, batch_size=2, progress=False,
    ...                      checkpoint=path)
    ...     ckpt = bp.load_checkpoint(path)
    >>> ckpt.epoch, ckpt.optimizer["type"], ckpt.optimizer["t"]  # 20 epochs of 2 batches
    (20, 'Adam', 40)
    >>> sorted(ckpt.optimizer_state["0.W"])  # Adam's moments, to go on exactly
    ['m', 'v']
    >>> all(np.array_equal(ckpt.params[k], v) for k, v in net.params.items())
    True
    >>> bool(np.array_equal(ckpt.history.loss, history.loss))
    True
    """
    path = Path(path)
    header, arrays = read_archive(path, FORMAT, (1, FORMAT_VERSION), "checkpoint")
    try:
        groups = _split(arrays)
        opt_state: dict[str, dict[str, np.ndarray]] = {}
        for key, value in groups.get("optim", {}).items():
            name, slot = key.rsplit("/", 1)
            opt_state.setdefault(name, {})[slot] = value
        optimizer = dict(header["optimizer"])
        lr, t = optimizer["lr"], optimizer["t"]
        if not (isinstance(optimizer["type"], str) and is_number(lr) and 0 < lr < np.inf and is_int(t) and t >= 0):
            raise ValueError(f"bad optimizer entry {optimizer!r:.80}")
        epoch = header["epoch"]
        if not is_int(epoch) or epoch < 0:
            raise ValueError(f"bad epoch {epoch!r:.40}")
        if not isinstance(header["rng"], dict) or not isinstance(header["layer_rngs"], dict):
            raise ValueError("bad generator state")
        diverged = {int(run): int(e) for run, e in dict(header["diverged"]).items()}
        groups["history"] = _history_blocks.read(path, header.get("history_blocks", []), groups.get("history", {}))
        for name, rows in groups["history"].items():
            if rows.dtype.kind != "f" or rows.ndim not in (1, 2) or len(rows) > epoch:
                raise ValueError(f"history {name!r} is not one row of numbers per epoch ({rows.dtype}, {rows.shape})")
        if epoch and len(groups["history"].get("loss", ())) != epoch:  # every epoch has its loss
            raise ValueError(f"the history's loss has {len(groups['history'].get('loss', ()))} rows for {epoch} epochs")
        position = None
        if header["position"] is not None:
            pos, saved = dict(header["position"]), groups.get("position", {})
            if not is_int(pos["start"]) or pos["start"] < 0:
                raise ValueError(f"bad position {pos!r:.60}")
            last_good = {k.removeprefix("last_good/"): v for k, v in saved.items() if k.startswith("last_good/")}
            totals = {k: v[()] for k, v in saved.items() if k != "order" and not k.startswith("last_good/")}
            position = Position(start=pos["start"], order=saved["order"] if pos["shuffled"] else None,
                                totals=totals, last_good=last_good)
        ckpt = Checkpoint(
            path=path,
            architecture=dict(header["architecture"]),
            params=groups.get("param", {}),
            optimizer=optimizer,
            optimizer_state=opt_state,
            rng_state=header["rng"],
            layer_rngs=header["layer_rngs"],
            buffers=groups.get("buffer", {}),
            epoch=epoch,
            metrics=groups.get("history", {}),
            diverged=diverged,
            fit=dict(header["fit"]),
            position=position,
            callbacks=_callbacks(header.get("callbacks", {}), groups.get("callback", {})),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"{path}: damaged checkpoint header ({type(exc).__name__}: {exc})") from exc
    ckpt.net  # noqa: B018 - validates architecture against the parameters, raising ModelFileError
    return ckpt


def restore(ckpt: Checkpoint, net: Network, optimizer: Optimizer, rng: np.random.Generator) -> None:
    """Copy a checkpoint's state into the objects of a run about to resume.

    Everything but the learning rate (``ckpt.optimizer["lr"]``): ``fit`` sets
    it after the callbacks' ``on_fit_begin``, so that a schedule reads the base
    rate the run was started with.

    Raises
    ------
    ValueError
        If ``net`` or ``optimizer`` is not the kind the checkpoint was written for.
    """
    if ckpt.architecture != net.to_config():
        raise ValueError(
            f"resume: the checkpoint {ckpt.path} was written for another network: "
            f"{_difference(ckpt.architecture, net.to_config())}"
        )
    if ckpt.optimizer["type"] != type(optimizer).__name__:
        raise ValueError(
            f"resume: the checkpoint {ckpt.path} was written with optimizer {ckpt.optimizer['repr']}, "
            f"got {optimizer!r}"
        )
    params = net.params
    for name, slots in ckpt.optimizer_state.items():
        for key, value in slots.items():
            if name not in params or value.shape != params[name].shape:
                raise ModelFileError(f"{ckpt.path}: optimizer state {name}/{key} does not match the parameters")
    generators = {_state_key(key): state for key, state in ckpt.layer_rngs.items()}
    if generators.keys() != {k for k in net.state_dict(generators=True) if k.split(".")[1] == "rng"}:
        raise ModelFileError(f"{ckpt.path}: the layers' generators do not match the network")
    try:  # try fit's generator's state on a scratch one first: nothing changes unless all of it fits
        type(rng.bit_generator)().state = ckpt.rng_state
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{ckpt.path}: unusable generator state ({type(exc).__name__}: {exc})") from exc
    try:
        # Checks every name, shape, value and generator state before it writes anything.
        net.load_state_dict({**ckpt.state, **generators} if generators else ckpt.state)
        optimizer.load_state_dict({"t": ckpt.optimizer["t"], "buffers": ckpt.optimizer_state})
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{ckpt.path}: {exc}") from exc
    rng.bit_generator.state = ckpt.rng_state


def restore_callbacks(ckpt: Checkpoint, callbacks: Sequence[Callback]) -> None:
    """Give each callback of a resumed run the state its counterpart saved (matched by position and type)."""
    for i, (kind, state) in ckpt.callbacks.items():
        if i >= len(callbacks) or type(callbacks[i]).__name__ != kind:
            got = type(callbacks[i]).__name__ if i < len(callbacks) else "nothing"
            raise ValueError(f"resume: the checkpoint {ckpt.path} holds the state of a {kind} as callback {i}; "
                             f"this call has {got} there")
        try:
            callbacks[i].load_state_dict(state)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{ckpt.path}: unusable state for {kind} ({type(exc).__name__}: {exc})") from exc


def _callbacks(kinds: Any, arrays: dict[str, np.ndarray]) -> dict[int, tuple[str, dict[str, np.ndarray]]]:
    found: dict[int, tuple[str, dict[str, np.ndarray]]] = {int(i): (str(kind), {}) for i, kind in dict(kinds).items()}
    for key, value in arrays.items():
        i, name = key.split("/", 1)
        found[int(i)][1][name] = value
    return found


def check_paths(checkpoint: Any, resume: Any) -> tuple[Path | None, Path | None]:
    """Validate ``fit``'s ``checkpoint`` and ``resume`` arguments before any work starts."""
    paths = []
    for name, value in (("checkpoint", checkpoint), ("resume", resume)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a file path, got {value!r:.80}")
        paths.append(None if value is None else Path(value))
    if paths[0] is not None and paths[0].is_dir():
        raise ValueError(f"checkpoint must be a file path, but {paths[0]} is a directory")
    if paths[1] is not None and not paths[1].is_file():
        raise FileNotFoundError(f"resume: no checkpoint at {paths[1]}")
    return paths[0], paths[1]


def fit_settings(X: np.ndarray, Y: np.ndarray, loss: Any, batch_size: int, shuffle: bool) -> dict[str, Any]:
    """What a resumed run must share with the run that wrote the checkpoint."""
    rows, data = X.shape[-2], data_fingerprint(X, Y)
    return {"batch_size": batch_size, "shuffle": shuffle, "loss": loss.name, "rows": rows, "data": data}


def resume(path: Path, net: Network, settings: dict[str, Any], epochs: int) -> Checkpoint:
    """Load the checkpoint at ``path`` for ``fit`` and check it fits this run (``restore`` then applies it).

    Raises
    ------
    ValueError
        If the checkpoint belongs to another run (network, optimizer, data,
        loss, batch size, shuffling) or is past ``epochs``.
    """
    ckpt = load_checkpoint(path)
    for key, value in settings.items():
        if ckpt.fit.get(key) != value:
            what = "data (X, y)" if key == "data" else f"{key}={ckpt.fit.get(key)!r}"
            got = "other data" if key == "data" else f"{key}={value!r}"
            raise ValueError(f"resume: the checkpoint {path} was written for {what}; this call has {got}")
    last = ckpt.epoch + (ckpt.position is not None)
    if last > epochs:
        raise ValueError(f"resume: the checkpoint {path} is at epoch {last}, past epochs={epochs}")
    if ckpt.position is not None:
        _check_position(ckpt, net, settings["rows"])
    return ckpt


def _check_position(ckpt: Checkpoint, net: Network, n: int) -> None:
    pos, state = ckpt.position, net.state_dict()
    assert pos is not None
    per_run = () if net.runs is None else (net.runs,)
    ok = (
        pos.start <= n
        and (pos.order is None or np.array_equal(np.sort(pos.order), np.arange(n)))
        and len(pos.totals) > 0
        and all(np.shape(value) in ((), per_run) for value in pos.totals.values())
        and pos.last_good.keys() == state.keys()
        and all(pos.last_good[k].shape == a.shape for k, a in state.items())
    )
    if not ok:
        raise ModelFileError(f"{ckpt.path}: the saved position inside epoch {ckpt.epoch + 1} does not fit this run")


def checkpoint_files(path: str | os.PathLike) -> list[Path]:
    """The files a checkpoint consists of: ``path`` itself and the history blocks its header names.

    A copy of a checkpoint must take all of them: since format version 2 a run
    of ``_history_blocks.BLOCK`` epochs or more keeps its older history rows in
    ``<path>.history/``, and the checkpoint alone cannot be resumed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.train.checkpoint import checkpoint_files
    >>> X, y = logic_table("xor")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "run.ckpt"
    ...     _ = bp.fit(bp.mlp([2, 2, 1]), X, y, epochs=4097, batch_size=4, progress=False, checkpoint=path)
    ...     [p.relative_to(tmp).as_posix()[:24] for p in checkpoint_files(path)]  # one block of 4096 epochs
    ['run.ckpt', 'run.ckpt.history/000000-']
    """
    path = Path(path)
    header, _ = read_archive(path, FORMAT, (1, FORMAT_VERSION), "checkpoint")
    names = header.get("history_blocks", [])
    _history_blocks.check_names(names)
    return [path, *(_history_blocks.folder(path) / name for name in names)]


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files a writer of ``path`` left when it was killed mid-write (``atomic_write`` names them)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def data_fingerprint(*arrays: np.ndarray) -> str:
    """A short hash of arrays' dtypes, shapes and bytes: resuming on other data is refused."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


def _file_key(name: str) -> str:
    """A layer generator's name in the file: ``"2.rng.0"`` (the state door's) -> ``"2._rngs.0"`` (format 1's)."""
    layer, _, k = name.split(".")
    return f"{layer}._rngs.{k}"


def _state_key(key: str) -> str:
    """The inverse of ``_file_key``: the layer's index and the generator's, between them the state door's word."""
    parts = key.split(".")
    return f"{parts[0]}.rng.{parts[-1]}"


def _split(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        group, name = key.split("/", 1)
        groups.setdefault(group, {})[name] = value
    return groups


def _difference(saved: dict[str, Any], this: dict[str, Any]) -> str:
    """The first difference between two architectures, in words."""
    for key in ("output", "runs", "dtype"):
        if saved.get(key) != this.get(key):
            return f"{key} {saved.get(key)!r} in the checkpoint, {this.get(key)!r} here"
    old, new = saved.get("layers", []), this.get("layers", [])
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a != b:
            return f"layer {i} is {a} in the checkpoint, {b} here"
    return f"{len(old)} layers in the checkpoint, {len(new)} here"

