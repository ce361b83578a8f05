"""Validation metrics and early stopping, as callbacks of ``fit``.

``fit(..., validation=(X_val, y_val))`` adds a ``Validation`` callback that,
after every epoch, evaluates the network in evaluation mode (dropout off, batch
norm on its running statistics) and records ``val_loss`` (and ``val_accuracy``
for classifiers) in the History beside the training metrics, per run.

``fit(..., early_stopping=EarlyStopping(patience=10))`` watches one of those
metrics and stops when it has not improved by ``min_delta`` for ``patience``
epochs (Prechelt 1998, "Early stopping — but when?"). With a runs axis each run
is judged on its own: training ends when every run has run out of patience, and
``restore_best`` gives each run its own best parameters (and batch-norm
statistics), so epochs that a run spent waiting for the others do not count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check_choice, check_positive_float, check_positive_int
from ..core.losses import Loss
from ..core.network import Network, check_data
from .callbacks import Callback, EpochTotals, FitState

#: Rows evaluated per forward pass, bounding memory on large validation sets.
EVAL_CHUNK = 4096


def evaluate(net: Network, X: Any, y: Any, loss: str | Loss | None = None) -> dict[str, np.ndarray | float]:
    """Loss (and accuracy, for classifiers) of ``net`` on ``(X, y)`` in evaluation mode, per run.

    Returns
    -------
    dict
        ``{"loss": ..., "accuracy": ...}``, each a float or ``(R,)``.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> metrics = bp.evaluate(net, X, y)
    >>> sorted(metrics), bool(metrics["accuracy"] == np.mean(net.predict(X) == y))
    (['accuracy', 'loss'], True)
    >>> bool(metrics["loss"] == bp.loss_and_gradients(net, X, y, train=False)[0])
    True
    >>> bp.evaluate(bp.mlp([2, 8, 1], runs=5), X, y)["loss"].shape  # one value per run
    (5,)
    """
    X, Y, loss_fn = check_data(net, X, y, loss)
    return _evaluate(net, X, Y, loss_fn)


def _evaluate(net: Network, X: np.ndarray, Y: np.ndarray, loss_fn: Loss) -> dict[str, np.ndarray | float]:
    n = X.shape[-2]
    totals = EpochTotals(loss_fn)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n, EVAL_CHUNK):
            xb, yb = X[..., start : start + EVAL_CHUNK, :], Y[..., start : start + EVAL_CHUNK, :]
            z = net.forward(xb, train=False)  # (R, b, K)
            totals.add(loss_fn.value(z, yb), z, yb)
    return totals.metrics(n)


class Validation(Callback):
    """Record ``val_loss`` (and ``val_accuracy``) after every epoch. ``fit(validation=...)`` adds it first."""

    def __init__(self, X_val: np.ndarray, Y_val: np.ndarray) -> None:
        self.X_val, self.Y_val = X_val, Y_val

    def on_epoch_end(self, state: FitState) -> None:
        metrics = _evaluate(state.net, self.X_val, self.Y_val, state.loss)
        frozen = sorted(state.history.diverged)
        values = {}
        for name, value in metrics.items():
            if frozen:  # runs frozen after diverging report NaN, as their training metrics do
                value = np.array(value, dtype=np.float64)
                value[frozen] = np.nan
            values[f"val_{name}"] = value
        state.history.append(**values)


class EarlyStopping(Callback):
    """Stop when a monitored metric stops improving; optionally restore the best parameters.

    Parameters
    ----------
    monitor : {"val_loss", "val_accuracy", "loss", "accuracy"}, default "val_loss"
    patience : int, default 10
        Epochs without improvement tolerated before a run stops.
    min_delta : float, default 0
        An improvement must exceed this (decrease for losses, increase for accuracies).
    restore_best : bool, default True
        At the end, set each run's parameters and buffers to those of its best epoch.

    Attributes
    ----------
    best : float or ndarray ``(R,)``
        Best monitored value per run.
    best_epoch : int or ndarray ``(R,)``
        1-based epoch of each run's best value (0 if none was finite).
    stopped_epoch : int or ndarray ``(R,)``
        Epoch in which each run ran out of patience (0 if it never did).

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab import data
    >>> ds = data.load("moons", n_samples=100, val=0.3, test=0.0, seed=0)
    >>> net = bp.mlp([2, 32, 1], activation="relu", seed=0)
    >>> stop = bp.EarlyStopping("val_loss", patience=5)
    >>> history = bp.fit(net, ds.X_train, ds.y_train, optimizer=bp.Adam(0.05), epochs=500, batch_size=16,
    ...                  validation=(ds.X_val, ds.y_val), early_stopping=stop, progress=False)
    >>> bool(len(history.loss) < 500), bool(stop.best_epoch >= 1)  # stopped early; best parameters restored
    (True, True)
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0, restore_best: bool = True
    ) -> None:
        self.monitor = check_choice("monitor", monitor, ("val_loss", "val_accuracy", "loss", "accuracy"))
        self.patience = check_positive_int("patience", patience)
        self.min_delta = check_positive_float("min_delta", min_delta, allow_zero=True)
        self.restore_best = bool(restore_best)
        self.sign = 1.0 if monitor.endswith("loss") else -1.0  # compare sign * value: smaller is better

    def on_fit_begin(self, state: FitState) -> None:
        shape = () if state.net.runs is None else (state.net.runs,)
        self._best = np.full(shape, np.inf)  # sign * best value
        self._best_epoch = np.zeros(shape, dtype=np.int64)
        self._wait = np.zeros(shape, dtype=np.int64)
        self._stopped = np.zeros(shape, dtype=np.int64)
        self._snapshot = state.net.state_dict(copy=True) if self.restore_best else None

    def on_epoch_end(self, state: FitState) -> None:
        if self.monitor not in state.history:
            raise ValueError(
                f"early stopping monitors {self.monitor!r} but the history holds {state.history.keys()}; "
                "pass validation=(X_val, y_val) to fit, or monitor='loss'"
            )
        value = self.sign * state.history[self.monitor][-1]  # () or (R,)
        # A run that has stopped is done: later epochs (spent waiting for other runs) never count.
        improved = np.isfinite(value) & (value < self._best - self.min_delta) & (self._stopped == 0)
        self._best = np.where(improved, value, self._best)
        self._best_epoch = np.where(improved, state.epoch, self._best_epoch)
        self._wait = np.where(improved, 0, self._wait + 1)
        newly = (self._wait >= self.patience) & (self._stopped == 0)
        self._stopped = np.where(newly, state.epoch, self._stopped)
        if self._snapshot is not None and improved.any():
            current = state.net.state_dict()
            for name, saved in self._snapshot.items():
                if state.net.runs is None:
                    saved[...] = current[name]
                else:
                    saved[improved] = current[name][improved]
        if (self._stopped > 0).all():
            state.stop = True

    def state_dict(self) -> dict[str, np.ndarray]:
        """Best values, waits, stops and the best parameters so far: what a resumed run needs."""
        state = {"best": self._best, "best_epoch": self._best_epoch, "wait": self._wait, "stopped": self._stopped}
        if self._snapshot is not None:
            state.update({f"snapshot/{name}": value for name, value in self._snapshot.items()})
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for key in ("best", "best_epoch", "wait", "stopped"):
            if np.shape(state[key]) != self._best.shape:
                raise ValueError(f"early stopping state {key!r} has shape {np.shape(state[key])}")
        self._best, self._best_epoch = state["best"].copy(), state["best_epoch"].copy()
        self._wait, self._stopped = state["wait"].copy(), state["stopped"].copy()
        if self._snapshot is not None:
            for name, saved in self._snapshot.items():
                saved[...] = state[f"snapshot/{name}"]

    def on_fit_end(self, state: FitState) -> None:
        state.info["early_stopping"] = {"best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch}
        if self._snapshot is None or not (self._best_epoch > 0).any():
            return
        keep = self._best_epoch > 0  # runs that never saw a finite value keep their final parameters
        if state.net.runs is None:
            state.net.load_state_dict(self._snapshot)
            return
        current = state.net.state_dict()
        for name, saved in self._snapshot.items():
            current[name][keep] = saved[keep]

    @property
    def best(self) -> np.ndarray | float:
        return self.sign * (self._best if self._best.ndim else float(self._best))

    @property
    def best_epoch(self) -> np.ndarray | int:
        return self._best_epoch if self._best_epoch.ndim else int(self._best_epoch)

    @property
    def stopped_epoch(self) -> np.ndarray | int:
        return self._stopped if self._stopped.ndim else int(self._stopped)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, min_delta={self.min_delta}, "
            f"restore_best={self.restore_best})"
        )


def attach(
    net: Network,
    loss_fn: Loss,
    validation: tuple[Any, Any] | None,
    early_stopping: EarlyStopping | bool | dict | None,
    callbacks: list[Callback],
) -> list[Callback]:
    """The callbacks ``fit`` runs: ``Validation`` first, the caller's, then early stopping.

    Validates ``validation`` against the network and loss, and the early-stopping
    setting against it, before any training starts.
    """
    out = list(callbacks)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (X_val, y_val)")
        X_val, Y_val, _ = check_data(net, validation[0], validation[1], loss_fn)
        out.insert(0, Validation(X_val, Y_val))
    if early_stopping is None or early_stopping is False:
        return out
    if early_stopping is True:
        early_stopping = EarlyStopping(monitor="val_loss" if validation is not None else "loss")
    elif isinstance(early_stopping, dict):
        early_stopping = EarlyStopping(**early_stopping)
    if not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be True, a dict of options or an EarlyStopping, got {early_stopping!r}")
    if early_stopping.monitor.startswith("val_") and validation is None:
        raise ValueError(
            f"early_stopping monitors {early_stopping.monitor!r} but fit got no validation=(X_val, y_val)"
        )
    if early_stopping.monitor.endswith("accuracy") and not loss_fn.classifier:
        raise ValueError(f"early_stopping monitors {early_stopping.monitor!r}; {loss_fn.name!r} is a regression loss")
    out.append(early_stopping)
    return out
