"""Training: mini-batch gradient descent over epochs, with a history and callbacks.

``fit`` is the report's training loop — shuffle, split into mini-batches,
forward, loss, backward, update — written once for one network or ``R``
stacked networks sharing the data. It validates everything before the first
step, keeps the loss (and accuracy, for classifiers) of every epoch and run, shows
a progress bar in a terminal, and stops with a clear message, keeping the last
finite parameters, if the loss becomes NaN or infinite.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import check_positive_int
from .errors import DivergenceError
from .losses import Loss
from .network import Network, check_data
from .optim import SGD, Optimizer


class History:
    """Per-epoch metrics of a ``fit`` call.

    ``history["loss"]`` is ``(epochs,)`` for one network and ``(epochs, R)``
    with a runs axis; so is ``history["accuracy"]`` for classifiers. Metrics
    are the means over the epoch's mini-batches, each measured before its
    update (as Keras reports them).
    """

    def __init__(self, runs: int | None = None) -> None:
        self.runs = runs
        self._metrics: dict[str, list[np.ndarray | float]] = {}

    def append(self, **values: np.ndarray | float) -> None:
        """Record one epoch's value of each named metric."""
        for name, value in values.items():
            self._metrics.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._metrics:
            raise KeyError(f"no metric {name!r}; recorded: {', '.join(self._metrics) or 'none'}")
        return np.asarray(self._metrics[name], dtype=np.float64)

    def __contains__(self, name: object) -> bool:
        return name in self._metrics

    def get(self, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
        """``history[name]`` if that metric was recorded, else ``default``."""
        return self[name] if name in self._metrics else default

    def keys(self) -> list[str]:
        """Names of the recorded metrics."""
        return list(self._metrics)

    @property
    def loss(self) -> np.ndarray:
        """Training loss per epoch: ``(epochs,)`` or ``(epochs, R)``."""
        return self["loss"]

    @property
    def accuracy(self) -> np.ndarray | None:
        """Training accuracy per epoch, or ``None`` for regression."""
        return self.get("accuracy")

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self._metrics.get("loss", ()))

    def __repr__(self) -> str:
        runs = f", runs={self.runs}" if self.runs else ""
        return f"History(epochs={self.epochs}, metrics={self.keys()}{runs})"


@dataclass
class FitState:
    """What callbacks see: the objects being trained and where training stands."""

    net: Network
    optimizer: Optimizer
    loss: Loss
    history: History
    epochs: int
    epoch: int = 0  # 1-based number of the last completed epoch
    stop: bool = False  # a callback sets this to end training after the current epoch
    info: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Hooks into ``fit``. Override any of the three methods."""

    def on_fit_begin(self, state: FitState) -> None:
        """Called once, after validation and before the first epoch."""

    def on_epoch_end(self, state: FitState) -> None:
        """Called after every epoch; ``state.net.grads`` holds the last batch's gradients."""

    def on_fit_end(self, state: FitState) -> None:
        """Called once after the last epoch (also after an early stop)."""


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train ``net`` in place by mini-batch gradient descent.

    Parameters
    ----------
    net : Network
        One network, or ``R`` stacked networks (all trained on the same batches).
    X : array-like, ``(B, D_in)`` or ``(R, B, D_in)``
    y : array-like
        Targets, as for ``loss_and_gradients``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    optimizer : Optimizer, optional
        Default: ``SGD(lr=0.1)``, the report's.
    epochs : int, default 100
    batch_size : int, default 32
        Rows per mini-batch; the last batch of an epoch may be smaller.
    shuffle : bool, default True
        Reshuffle the rows every epoch (one permutation shared by all runs).
        Skipped when one batch holds all the data, where order cannot matter.
    seed : int, default 0
        Seed of the shuffling.
    progress : bool, default True
        Show a progress bar on stderr, only if it is a terminal.
    callbacks : sequence of Callback

    Returns
    -------
    History

    Raises
    ------
    DivergenceError
        If the loss becomes NaN or infinite; the parameters are restored to
        their values at the end of the last finite epoch.
    """
    X, Y, loss_fn = check_data(net, X, y, loss)
    optimizer = SGD(0.1) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a backproplab Optimizer, got {type(optimizer).__name__}")
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")

    n = X.shape[-2]
    batch_size = min(batch_size, n)
    shuffle = shuffle and batch_size < n
    rng = np.random.default_rng(seed)
    history = History(net.runs)
    state = FitState(net=net, optimizer=optimizer, loss=loss_fn, history=history, epochs=epochs)
    bar = _progress_bar(epochs) if progress else None
    for cb in callbacks:
        cb.on_fit_begin(state)
    # Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as warnings.
    with np.errstate(over="ignore", invalid="ignore"), contextlib.ExitStack() as cleanup:
        if bar is not None:
            cleanup.callback(bar.close)
        for epoch in range(1, epochs + 1):
            last_good = net.copy_params()
            if shuffle:
                perm = rng.permutation(n)
                Xe, Ye = X[..., perm, :], Y[..., perm, :]
            else:
                Xe, Ye = X, Y
            total_loss = 0.0
            total_correct = 0
            for start in range(0, n, batch_size):
                xb = Xe[..., start : start + batch_size, :]
                yb = Ye[..., start : start + batch_size, :]
                z = net.forward(xb, train=True)
                total_loss = total_loss + loss_fn.value(z, yb) * xb.shape[-2]
                if loss_fn.classifier:
                    total_correct = total_correct + loss_fn.correct(z, yb)
                net.backward(loss_fn.gradient(z, yb))
                optimizer.step(net.params, net.grads)
            epoch_loss = total_loss / n
            if not np.all(np.isfinite(epoch_loss)):
                net.set_params(last_good)
                raise _divergence(epoch_loss, epoch)
            if loss_fn.classifier:
                history.append(loss=epoch_loss, accuracy=total_correct / n)
            else:
                history.append(loss=epoch_loss)
            state.epoch = epoch
            if bar is not None:
                bar.update(1)
                if epoch % 10 == 0 or epoch == epochs:
                    bar.set_postfix_str(f"loss {np.mean(epoch_loss):.4f}", refresh=False)
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stop:
                break
    for cb in callbacks:
        cb.on_fit_end(state)
    return history


def _divergence(epoch_loss: np.ndarray | float, epoch: int) -> DivergenceError:
    bad = np.flatnonzero(~np.isfinite(np.atleast_1d(epoch_loss)))
    runs = tuple(int(r) for r in bad)
    which = f" in run(s) {list(runs)[:10]}{'...' if len(runs) > 10 else ''}" if np.ndim(epoch_loss) else ""
    return DivergenceError(
        f"training diverged: the loss became NaN or infinite in epoch {epoch}{which}. "
        f"Parameters were restored to the end of epoch {epoch - 1}. "
        "Try a smaller learning rate or gradient clipping (clip_norm).",
        epoch=epoch,
        runs=runs if np.ndim(epoch_loss) else (0,),
    )


def _progress_bar(epochs: int) -> Any:
    """A tqdm bar on stderr, or None when stderr is not a terminal (logs, CI, pipes)."""
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, desc="epochs", unit="ep", file=sys.stderr, leave=False)
