"""Recording a training run: what the explorer replays and the playground streams.

A :class:`Recorder` is a ``fit`` callback. Every ``every`` epochs (chosen so a
run keeps at most ``max_frames`` frames) it takes one *frame* of one run:

- the parameters;
- each Dense layer's gradient norm and update-to-weight ratio;
- each hidden activation's health: the share of saturated sigmoid/tanh units
  (``a(1-a) < 0.01``, ``|a| > 0.99``) or of dead ReLU units (inactive on every
  evaluated sample);
- the loss;
- for a few *probe* inputs: every unit's pre-activation ``z``, activation ``a``
  and delta ``dL/dz`` (the backward signal) — what the explorer shows on hover;
- for 2-D inputs: the network's output on a ``grid x grid`` lattice over the
  input square (the decision boundary).

A frame is measured on a single-run copy of the network (``FrameProbe``), so the
training network — its parameters, gradients and caches — is never touched and
a recorded fit is bit-identical to an unrecorded one. The gradient norm is the
full-data gradient at the frame's parameters (measured on at most
``max_eval`` rows), not the last mini-batch's: it is defined at epoch 0, free of
batch noise, and consistent with the deltas of the same frame. The update ratio
is ``||W_e - W_{e-1}|| / ||W_{e-1}||``: one epoch's change of the weights
relative to their size (Karpathy's rule of thumb: about 1e-3 is healthy).

A recorder attached to nothing costs nothing; attached, it copies one run's
parameters once per epoch only on the epoch before a frame.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_positive_int
from ..core import _html
from ..core._archive import read_archive, write_archive
from ..core.layers import ACTIVATIONS, Dense
from ..core.losses import OUTPUTS, Loss
from ..core.network import Network, check_data
from ..core.regularization import BatchNorm
from ..errors import ModelFileError
from ._display import recording_html, recording_summary
from .callbacks import Callback, FitState

FORMAT = "backproplab-recording"
FORMAT_VERSION = 1

_ACTIVATION_NAMES = {cls: name for name, cls in ACTIVATIONS.items()}

#: Gradient-flow verdicts per layer and frame (the explorer words them).
HEALTH_OK, HEALTH_VANISHING, HEALTH_EXPLODING = 0, 1, 2


def run_params(net: Network, run: int | None) -> dict[str, np.ndarray]:
    """Copies of one run's parameters (all of them when ``net`` has no runs axis)."""
    return {name: (p[run] if net.runs else p).copy() for name, p in net.params.items()}


def default_extent(X: np.ndarray, margin: float = 0.25) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of a 2-D data set, widened by ``margin`` of its span."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def pick_rows(n: int, k: int) -> np.ndarray:
    """``min(n, k)`` row indices spread evenly over ``range(n)``."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))


class FrameProbe:
    """Measures frames of a single-run network on fixed data.

    Parameters
    ----------
    net : Network
        A network without a runs axis (see ``Network.single_run_copy``); its parameters
        are set before each measurement.
    X : ndarray, ``(B, D_in)``
    Y : ndarray, ``(B, K)``
        Targets prepared for ``loss``.
    loss : Loss
    n_probes : int
        Number of probe inputs (spread over the rows of ``X``).
    max_eval : int
        Rows used for the loss, gradient and health (spread over ``X``).
    grid : int
        Side of the output lattice for 2-D inputs (0: none).
    extent : tuple, optional
        ``(x_min, x_max, y_min, y_max)`` of the lattice; default from ``X``.
    """

    def __init__(
        self,
        net: Network,
        X: np.ndarray,
        Y: np.ndarray,
        loss: Loss,
        *,
        n_probes: int = 16,
        max_eval: int = 512,
        grid: int = 40,
        extent: tuple[float, float, float, float] | None = None,
    ) -> None:
        self.net, self.loss = net, loss
        rows = pick_rows(len(X), max_eval)
        self.X, self.Y = X[rows], Y[rows]
        probes = pick_rows(len(X), n_probes)
        self.probe_x, self.probe_y = X[probes], Y[probes]
        self.dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
        self.grid = grid if net.n_inputs == 2 else 0
        self.extent = extent if extent is not None else (default_extent(X) if self.grid else None)
        if self.grid:
            x0, x1, y0, y1 = self.extent
            gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
            self.grid_x = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(net.dtype)  # (G*G, 2), row-major, y up

    def activation_kinds(self) -> list[str]:
        """Name of each Dense layer's activation ("sigmoid", "tanh", "relu", ..., or ``"output:<name>"``)."""
        kinds = []
        for j, i in enumerate(self.dense):
            end = self.dense[j + 1] if j + 1 < len(self.dense) else len(self.net.layers)
            # Registry names ("tanh", "leaky_relu"); normalisation and dropout layers in between are not activations.
            block = self.net.layers[i + 1 : end]
            acts = [_ACTIVATION_NAMES[type(layer)] for layer in block if type(layer) in _ACTIVATION_NAMES]
            if acts:
                kinds.append(acts[-1])
            else:  # the last Dense layer's activation is the output's, paired with the loss
                kinds.append("output:" + self.net.output if end == len(self.net.layers) else "identity")
        return kinds

    def _passes(self, x: np.ndarray, y: np.ndarray) -> tuple[list, list, list, float]:
        """Forward and backward through the layers, keeping ``z``, ``a`` and ``dL/dz`` of every Dense layer."""
        net, outs = self.net, []
        h = x
        for layer in net.layers:
            h = layer.forward(h, train=False)
            outs.append(h)
        zs = [outs[i] for i in self.dense]  # (B, D_out) each
        ends = [*self.dense[1:], len(net.layers)]
        acts = [outs[e - 1] for e in ends]
        acts[-1] = OUTPUTS[net.output](acts[-1])  # the output unit's activation is the loss's pairing
        dout = self.loss.gradient(outs[-1], y)
        deltas: list[np.ndarray] = [None] * len(self.dense)  # type: ignore[list-item]
        for i in range(len(net.layers) - 1, -1, -1):
            if i in self.dense:
                deltas[self.dense.index(i)] = dout
            dout = net.layers[i].backward(dout)
        return zs, acts, deltas, float(self.loss.value(outs[-1], y))

    def measure(self, params: dict[str, np.ndarray], previous: dict[str, np.ndarray] | None) -> dict[str, Any]:
        """One frame at ``params``; ``previous`` are the parameters one epoch earlier (or None)."""
        net = self.net
        net.set_params(params)
        _, acts, _, loss = self._passes(self.X, self.Y)
        grads = net.grads
        grad_norm = np.array(
            [math.sqrt(np.sum(grads[f"{i}.W"] ** 2) + np.sum(grads[f"{i}.b"] ** 2)) for i in self.dense]
        )
        ratio = np.full(len(self.dense), np.nan)
        if previous is not None:
            for j, i in enumerate(self.dense):
                W0 = previous[f"{i}.W"]
                ratio[j] = np.linalg.norm(params[f"{i}.W"] - W0) / max(np.linalg.norm(W0), 1e-300)
        health = np.array([_unhealthy_share(kind, a) for kind, a in zip(self.activation_kinds(), acts, strict=True)])
        # Probe passes: per-sample deltas, i.e. the gradient of each sample's own loss (undo the batch mean).
        zs, pa, ds, _ = self._passes(self.probe_x, self.probe_y)
        n = len(self.probe_x)
        frame = {
            "params": {k: v.copy() for k, v in params.items()},
            "loss": loss,
            "grad_norm": grad_norm,
            "update_ratio": ratio,
            "health": health,
            "z": [z.copy() for z in zs],
            "a": [a.copy() for a in pa],
            "delta": [d * n for d in ds],
        }
        if self.grid:
            p = OUTPUTS[net.output](net.forward(self.grid_x, train=False))  # (G*G, K)
            frame["grid"] = p.reshape(self.grid, self.grid, -1)
        return frame


def _unhealthy_share(kind: str, a: np.ndarray) -> float:
    """Share of saturated units (sigmoid, tanh) or of dead units (ReLU); NaN for other activations."""
    if kind == "sigmoid":
        return float(np.mean(a * (1 - a) < 0.01))  # slope below 4 % of its peak: a < 0.0102 or a > 0.9898
    if kind == "tanh":
        return float(np.mean(np.abs(a) > 0.99))
    if kind == "relu":
        return float(np.mean(np.all(a <= 0, axis=0)))  # a unit silent on every sample passes no gradient
    return math.nan


def health_flags(grad_norm: np.ndarray, update_ratio: np.ndarray, factor: float = 1e3) -> np.ndarray:
    """Gradient-flow verdict per frame and layer: ``(F, L)`` of ``HEALTH_*``.

    A layer's gradient *vanishes* when it is ``factor`` times weaker than the
    strongest layer's in the same frame (it learns that much slower). It
    *explodes* when its norm exceeds ``factor`` or one epoch changed its
    weights by more than their own size (update-to-weight ratio above 1).
    """
    g = np.maximum(np.asarray(grad_norm, dtype=np.float64), 1e-300)
    flags = np.zeros(g.shape, dtype=np.int8)
    flags[g * factor < g.max(axis=-1, keepdims=True)] = HEALTH_VANISHING
    flags[(g > factor) | (np.nan_to_num(update_ratio) > 1.0)] = HEALTH_EXPLODING
    return flags


@dataclass(repr=False)
class Recording:
    """Frames of one training run, stacked along a leading frame axis ``F``.

    Attributes
    ----------
    meta : dict
        Architecture, activations, loss, optimizer, epochs, ``every``, run, extent, title.
    epochs : ndarray ``(F,)``
        Epoch of each frame (0 = before training).
    arrays : dict of str to ndarray
        ``"p:<name>"`` ``(F, *shape)`` parameters; ``"loss"`` ``(F,)``; ``"grad_norm"``,
        ``"update_ratio"``, ``"health"`` ``(F, L)``; ``"z:j"``, ``"a:j"``, ``"delta:j"``
        ``(F, P, units)`` for Dense layer ``j`` and the ``P`` probes; ``"grid"``
        ``(F, G, G, K)``; ``"probe_x"`` ``(P, D_in)``, ``"probe_y"`` ``(P, K)``;
        ``"X"``, ``"y"`` the training points (at most 1000); ``"loss_history"`` ``(E,)``.
    """

    meta: dict[str, Any]
    epochs: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return len(self.epochs)

    def __repr__(self) -> str:  # a summary: the arrays' dump ran to 100,000 characters
        return recording_summary(self)

    def _repr_html_(self) -> str:
        return _html.safe(lambda: recording_html(self), self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the recording as an ``.npz`` with a JSON header, atomically."""
        return write_archive(path, FORMAT, FORMAT_VERSION, {"meta": self.meta}, {"epochs": self.epochs, **self.arrays})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recording:
        """Read a recording written by ``save``.

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ModelFileError
            If it is not a backproplab recording of this format version.
        """
        header, arrays = read_archive(Path(path), FORMAT, FORMAT_VERSION, "recording")
        epochs = arrays.pop("epochs", None)
        if epochs is None or not isinstance(header.get("meta"), dict):
            raise ModelFileError(f"{path} is not a complete backproplab recording (no epochs or metadata)")
        return cls(meta=header["meta"], epochs=epochs, arrays=arrays)


class Recorder(Callback):
    """A ``fit`` callback that records frames of one run (see the module docstring).

    Parameters
    ----------
    X, y : array-like
        The training data (as passed to ``fit``; per-run data ``(R, B, D_in)``
        uses run ``run``'s slice).
    run : int, default 0
        Which run of a network with a runs axis to record.
    max_frames : int, default 200
        At most this many frames after the initial one; ``every`` is
        ``ceil(epochs / max_frames)`` unless given.
    every : int, optional
        Record every ``every`` epochs (the last epoch is always recorded).
    n_probes : int, default 16
        Inputs whose unit values are kept for the explorer's hover.
    grid : int, default 40
        Side of the decision-boundary lattice (2-D inputs only).
    extent : tuple, optional
        ``(x_min, x_max, y_min, y_max)`` of the lattice.
    title : str, optional
        Shown by the explorer.

    Attributes
    ----------
    recording : Recording or None
        Filled by ``on_fit_end``.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> recorder = bp.Recorder(X, y, max_frames=50)
    >>> _ = bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=500, progress=False, callbacks=[recorder])
    >>> recorder.recording  # a frame every 10 epochs and the initial one; bp.explore(recorder) shows them
    Recording(frames=51, epochs=0..500, sizes=[2, 8, 1])
    """

    def __init__(
        self,
        X: Any,
        y: Any,
        *,
        run: int = 0,
        max_frames: int = 200,
        every: int | None = None,
        n_probes: int = 16,
        grid: int = 40,
        extent: tuple[float, float, float, float] | None = None,
        title: str = "",
    ) -> None:
        self.X, self.y = X, y
        self.run = check_positive_int("run", run, minimum=0)
        self.max_frames = check_positive_int("max_frames", max_frames)
        self.every = None if every is None else check_positive_int("every", every)
        self.n_probes = check_positive_int("n_probes", n_probes)
        self.grid = check_positive_int("grid", grid, minimum=0)
        if extent is not None and (len(extent) != 4 or not all(math.isfinite(v) for v in extent)):
            raise ValueError(f"extent must be (x_min, x_max, y_min, y_max), got {extent!r}")
        self.extent = extent
        self.title = title
        self.recording: Recording | None = None

    def on_fit_begin(self, state: FitState) -> None:
        net = state.net
        if net.runs is not None and self.run >= net.runs:
            raise ValueError(f"run must be < the network's {net.runs} runs, got {self.run}")
        X, Y, _ = check_data(net, self.X, self.y, state.loss)
        if X.ndim == 3:
            X = X[self.run]
        if Y.ndim == 3:
            Y = Y[self.run]
        copy = net.single_run_copy(self.run)
        self._probe = FrameProbe(copy, X, Y, state.loss, n_probes=self.n_probes, grid=self.grid, extent=self.extent)
        self._every = self.every or max(1, math.ceil(state.epochs / self.max_frames))
        self._net = net
        self._epochs: list[int] = []
        self._frames: list[dict[str, Any]] = []
        self._previous: tuple[int, dict[str, np.ndarray]] | None = None
        self._keep(0, run_params(net, self.run))
        if self._due(1, state.epochs):
            self._previous = (0, self._frames[0]["params"])
        self._data = (X, Y)

    def _due(self, epoch: int, last: int) -> bool:
        return epoch % self._every == 0 or epoch == last

    def on_epoch_end(self, state: FitState) -> None:
        e = state.epoch
        if self._due(e, state.epochs) or state.stop:
            self._keep(e, run_params(state.net, self.run))
        if self._due(e + 1, state.epochs):
            self._previous = (e, run_params(state.net, self.run))  # the update ratio of the next frame needs them

    def on_fit_end(self, state: FitState) -> None:
        if self._epochs[-1] != state.epoch:  # stopped early by another callback after our hook ran
            self._keep(state.epoch, run_params(state.net, self.run))
        loss = state.history["loss"] if state.history.epochs else np.empty(0)
        if loss.ndim == 2:
            loss = loss[:, self.run]
        self.recording = self._assemble(state, loss)

    def _keep(self, epoch: int, params: dict[str, np.ndarray]) -> None:
        # Batch norm's running statistics drive the evaluation-mode passes of the frame: copy the current ones.
        for name, buffer in self._net.buffers.items():
            self._probe.net.buffers[name][...] = buffer[self.run] if self._net.runs else buffer
        previous = self._previous[1] if self._previous is not None and self._previous[0] == epoch - 1 else None
        self._frames.append(self._probe.measure(params, previous))
        self._epochs.append(epoch)

    def _assemble(self, state: FitState, loss_history: np.ndarray) -> Recording:
        frames, probe = self._frames, self._probe
        arrays: dict[str, np.ndarray] = {}
        for name in frames[0]["params"]:
            arrays[f"p:{name}"] = np.stack([f["params"][name] for f in frames])
        for key in ("loss", "grad_norm", "update_ratio", "health"):
            arrays[key] = np.stack([np.asarray(f[key], dtype=np.float64) for f in frames])
        for key in ("z", "a", "delta"):
            for j in range(len(probe.dense)):
                arrays[f"{key}:{j}"] = np.stack([f[key][j] for f in frames])
        if probe.grid:
            arrays["grid"] = np.stack([f["grid"] for f in frames]).astype(np.float32)  # 7 digits suffice
        arrays["probe_x"], arrays["probe_y"] = probe.probe_x, probe.probe_y
        X, Y = self._data
        rows = pick_rows(len(X), 1000)
        arrays["X"], arrays["y"] = X[rows], Y[rows]
        arrays["loss_history"] = np.asarray(loss_history, dtype=np.float64)
        net = state.net
        meta = {
            "title": self.title,
            "sizes": [net.n_inputs] + [net.layers[i].fan_out for i in probe.dense],
            "activations": probe.activation_kinds(),
            "output": net.output,
            "loss": state.loss.name,
            "optimizer": repr(state.optimizer),
            "epochs": int(state.epoch),
            "every": int(self._every),
            "run": self.run if net.runs else None,
            "runs": net.runs,
            "extent": list(probe.extent) if probe.extent else None,
            "dense": probe.dense,
            # Per Dense layer: whether a batch norm follows it (then "z:j" is x W + b before the normalisation).
            "batch_norm": [any(isinstance(layer, BatchNorm) for layer in net.layers[i + 1 : end])
                           for i, end in zip(probe.dense, [*probe.dense[1:], len(net.layers)], strict=True)],
        }
        return Recording(meta=meta, epochs=np.asarray(self._epochs, dtype=np.int64), arrays=arrays)
