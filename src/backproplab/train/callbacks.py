"""What ``fit`` shares with the code around it: the History it fills, the FitState callbacks see, Callback.

These live below ``training`` so that everything built on training's hooks
(early stopping, schedules, checkpoints, the recorder) imports them without
importing the training loop itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import _html
from ..core.losses import Loss
from ..core.network import Network
from ..core.optim import Optimizer
from ._display import history_html


class History:
    """Per-epoch metrics of a ``fit`` call.

    ``history["loss"]`` is ``(epochs,)`` for one network and ``(epochs, R)``
    with a runs axis; so is ``history["accuracy"]`` for classifiers. Metrics
    are the means over the epoch's mini-batches, each measured before its
    update (as Keras reports them).

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> before = bp.evaluate(net, X, y)["loss"]
    >>> history = bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=5, batch_size=4, progress=False)
    >>> history
    History(epochs=5, metrics=['loss', 'accuracy'])
    >>> history.loss.shape, bool(history.loss[0] == before)  # one batch per epoch: measured before its update
    ((5,), True)
    >>> nets = bp.mlp([2, 8, 1], seed=0, runs=3)
    >>> bp.fit(nets, X, y, optimizer=bp.SGD(0.1), epochs=5, batch_size=4, progress=False).loss.shape  # (epochs, R)
    (5, 3)
    """

    def __init__(self, runs: int | None = None) -> None:
        self.runs = runs
        self._metrics: dict[str, list[np.ndarray | float]] = {}
        #: Runs (of a runs axis) whose loss became NaN or infinite: run -> 1-based epoch.
        #: Their parameters are frozen at the start of that epoch; their metrics are NaN from it on.
        self.diverged: dict[int, int] = {}

    def append(self, **values: np.ndarray | float) -> None:
        """Record one epoch's value of each named metric."""
        for name, value in values.items():
            self._metrics.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._metrics:
            raise KeyError(f"no metric {name!r}; recorded: {', '.join(self._metrics) or 'none'}")
        return np.asarray(self._metrics[name], dtype=np.float64)

    def lengths(self) -> dict[str, int]:
        """Rows recorded per metric."""
        return {name: len(values) for name, values in self._metrics.items()}

    def rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """``history[name][start:stop]``, converting only those rows (checkpoints write the new ones)."""
        return np.asarray(self._metrics[name][start:stop], dtype=np.float64)

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

    @property
    def n_diverged(self) -> int:
        """How many runs diverged and were frozen (0 without a runs axis)."""
        return len(self.diverged)

    def plot(self, title: str = "") -> Any:
        """The learning curves (``backproplab.train.plot.learning_curves``): a matplotlib ``Figure``.

        Needs matplotlib (``pip install "backproplab[report]"``); in Jupyter the figure
        shows as a PNG without pyplot.
        """
        try:
            from .plot import learning_curves  # matplotlib is imported when a figure is drawn, never before
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] != "matplotlib":
                raise
            raise ImportError('History.plot needs matplotlib: pip install "backproplab[report]"') from None
        return learning_curves(self, title)

    def _repr_html_(self) -> str:
        """Jupyter's display: the final metrics and an inline SVG of the loss (a band over runs)."""
        return _html.safe(lambda: history_html(self), self)

    def __repr__(self) -> str:
        runs = f", runs={self.runs}, diverged={self.n_diverged}" if self.runs else ""
        return f"History(epochs={self.epochs}, metrics={self.keys()}{runs})"


@dataclass
class FitState:
    """What callbacks see: the objects being trained and where training stands.

    Examples
    --------
    A callback that ends training once every XOR row is classified right:

    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> class StopWhenPerfect(bp.Callback):
    ...     def on_epoch_end(self, state: bp.FitState) -> None:
    ...         if state.history.accuracy[-1] == 1.0:
    ...             state.stop = True  # training ends after this epoch
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> history = bp.fit(net, X, y, optimizer=bp.SGD(0.5), epochs=5000, batch_size=4, progress=False,
    ...                  callbacks=[StopWhenPerfect()])
    >>> history.epochs < 5000, float(history.accuracy[-1])
    (True, 1.0)
    """

    net: Network
    optimizer: Optimizer
    loss: Loss
    history: History
    epochs: int
    epoch: int = 0  # 1-based number of the last completed epoch
    stop: bool = False  # a callback sets this to end training after the current epoch
    info: dict[str, Any] = field(default_factory=dict)


class Callback:
    """Hooks into ``fit``. Override any of the three methods.

    A callback that keeps state across epochs (early stopping's patience) also
    implements ``state_dict``/``load_state_dict``, so that checkpoints carry it
    and a resumed run continues exactly.

    Examples
    --------
    When each hook runs (``state.epoch`` counts the completed epochs):

    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> class Log(bp.Callback):
    ...     def on_fit_begin(self, state):
    ...         print("begin", state.epoch, "of", state.epochs)
    ...     def on_epoch_end(self, state):
    ...         print("epoch", state.epoch, sorted(state.net.grads))
    ...     def on_fit_end(self, state):
    ...         print("end", state.epoch)
    >>> _ = bp.fit(bp.mlp([2, 8, 1]), X, y, epochs=2, progress=False, callbacks=[Log()])
    begin 0 of 2
    epoch 1 ['0.W', '0.b', '2.W', '2.b']
    epoch 2 ['0.W', '0.b', '2.W', '2.b']
    end 2
    """

    def on_fit_begin(self, state: FitState) -> None:
        """Called once, after validation and before the first epoch."""

    def on_epoch_end(self, state: FitState) -> None:
        """Called after every epoch; ``state.net.grads`` holds the last batch's gradients."""

    def on_fit_end(self, state: FitState) -> None:
        """Called once after the last epoch (also after an early stop)."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Arrays this callback needs to continue a resumed run exactly (empty: it keeps none)."""
        return {}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Take back what ``state_dict`` returned; ``fit`` calls it after ``on_fit_begin`` when resuming."""


class EpochTotals:
    """Running sums over the batches of an epoch: loss times rows, and correct predictions (classifiers).

    ``fit`` keeps one per epoch and the validation keeps one per evaluation;
    ``metrics`` turns the sums into the epoch's means. Each is ``()`` or ``(R,)``.
    """

    def __init__(self, loss: Loss, loss_sum: np.ndarray | float = 0.0, correct: np.ndarray | int = 0) -> None:
        self.loss, self.loss_sum, self.correct = loss, loss_sum, correct

    def add(self, value: np.ndarray | float, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        """Count one batch: ``value`` its mean loss, ``z`` its logits, ``y`` its targets. Returns its summed loss."""
        batch_loss = value * z.shape[-2]
        self.loss_sum = self.loss_sum + batch_loss
        if self.loss.classifier:
            self.correct = self.correct + self.loss.correct(z, y)
        return batch_loss

    def state_dict(self) -> dict[str, np.ndarray]:
        """The running sums, ``{"loss_sum", "correct"}``: a checkpoint inside an epoch keeps them as they are.

        ``EpochTotals.from_state_dict`` takes them back.
        """
        return {"loss_sum": np.asarray(self.loss_sum), "correct": np.asarray(self.correct)}

    @classmethod
    def from_state_dict(cls, loss: Loss, state: dict[str, np.ndarray]) -> EpochTotals:
        """The running sums ``state_dict()`` gave, for the rest of the epoch."""
        return cls(loss, state.get("loss_sum", 0.0), state.get("correct", 0))

    def metrics(self, rows: int) -> dict[str, np.ndarray | float]:
        """``{"loss": ..., "accuracy": ...}`` (accuracy for classifiers only), means over ``rows`` rows."""
        out = {"loss": self.loss_sum / rows}
        if self.loss.classifier:
            out["accuracy"] = self.correct / rows
        return out
