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
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import interrupt as _interrupt
from .._checks import check_bool, check_positive_int, renamed
from ..core.losses import Loss
from ..core.network import Network, check_data
from ..core.optim import SGD, Optimizer
from ..errors import TrainingInterrupted
from . import checkpoint as _checkpoint
from .callbacks import Callback, EpochTotals, FitState, History
from .divergence import Divergence, diverged_summary
from .early_stopping import attach
from .live import LivePlot
from .progress import progress_bar

__all__ = ["Callback", "FitState", "History", "fit"]


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
    shuffle_seed: int = 0,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    validation: tuple[Any, Any] | None = None,
    early_stopping: Any = None,
    batch_order: Callable[[int], np.ndarray | None] | None = None,
    live: int | None = None,
    seed: int | None = None,
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
    shuffle_seed : int, default 0
        Seed of the shuffling (the network's initial weights have theirs: ``mlp(seed=)``).
    progress : bool, default True
        Show a progress bar (the current loss beside it): on stderr if it is a
        terminal, or as a notebook widget that stays in the cell in a Jupyter kernel.
        False shows nothing anywhere.
    callbacks : sequence of Callback
    checkpoint : path, optional
        File to keep the full training state in (``backproplab.train.checkpoint``),
        written atomically at the end, every ``checkpoint_every`` epochs, and when
        SIGINT/SIGTERM arrives: then the current step is finished, the state
        saved and ``TrainingInterrupted`` raised (a second signal stops at once).
    checkpoint_every : int, optional
        Also write the checkpoint after every this many epochs.
    resume : path, optional
        A checkpoint to continue from, written by a run with the same network,
        optimizer type, data, loss, batch size and shuffling. ``epochs`` counts
        the epochs already done, so a resumed run ends where the uninterrupted
        one would, with bit-identical parameters and history.
    validation : (X_val, y_val), optional
        Evaluated after every epoch in evaluation mode; the history gains
        ``val_loss`` (and ``val_accuracy``), per run. See ``backproplab.train.early_stopping``.
    early_stopping : EarlyStopping, dict or True, optional
        Stop when the monitored metric (default ``val_loss``, or ``loss`` without
        validation data) stops improving, and restore each run's best parameters.
        A dict holds ``EarlyStopping``'s options (``patience``, ``min_delta``,
        ``restore_best``, ``monitor``).
    batch_order : callable, optional
        ``batch_order(epoch)`` gives the row order of each epoch (1-based): a
        permutation of ``range(B)``, or None for the rows in their own order. It
        replaces ``shuffle`` and ``shuffle_seed``'s draw, so another library's shuffling
        can be replayed (the scikit-learn estimators replay scikit-learn's). Its
        state is not saved, so it cannot be combined with ``checkpoint`` or ``resume``.
    live : int, optional
        In a Jupyter kernel, redraw the loss in place every ``live`` epochs
        (``LivePlot(every=live)`` added to the callbacks); elsewhere nothing.
    seed : int, optional
        The earlier name of ``shuffle_seed``: still accepted, with a ``DeprecationWarning``.

    Returns
    -------
    History
        With a runs axis, ``history.diverged`` maps each run whose loss became
        NaN or infinite to that epoch: the run is frozen at its parameters from
        the start of that epoch while the others train on (a ``RuntimeWarning``
        says how many).

    Raises
    ------
    DivergenceError
        If the loss of a network without a runs axis becomes NaN or infinite;
        the parameters are restored to their values at the end of the last
        finite epoch.
    TrainingInterrupted
        On SIGINT/SIGTERM when ``checkpoint`` is set, after saving the state.

    Examples
    --------
    The report's XOR experiment, and 100 seeds of it at once on the runs axis:

    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 8, 1], seed=0)
    >>> history = bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4, progress=False)
    >>> net.predict(X).tolist()
    [0, 1, 1, 0]
    >>> nets = bp.mlp([2, 8, 1], seed=0, runs=100)
    >>> history = bp.fit(nets, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4, progress=False)
    >>> history.loss.shape  # (epochs, runs)
    (2000, 100)
    """
    X, Y, loss_fn = check_data(net, X, y, loss)
    try:  # weights that are already NaN or infinite can be neither trained nor rolled back to
        net.check_state(net.state_dict())
    except ValueError as exc:
        raise ValueError(f"net cannot be trained: {exc}") from None
    optimizer, callbacks = _check_arguments(net, loss_fn, optimizer, callbacks, validation, early_stopping, live)
    epochs, batch_size = check_positive_int("epochs", epochs), check_positive_int("batch_size", batch_size)
    shuffle_seed = renamed("fit", "shuffle_seed", shuffle_seed, 0, "seed", seed)
    rng = np.random.default_rng(check_positive_int("shuffle_seed", shuffle_seed, minimum=0))  # None: irreproducible
    n = X.shape[-2]
    batch_size = min(batch_size, n)
    # one batch holds all rows: order cannot matter; a batch_order replaces the draw
    shuffle = check_bool("shuffle", shuffle) and batch_size < n and batch_order is None
    progress = check_bool("progress", progress)
    if batch_order is not None:
        if not callable(batch_order):
            raise TypeError(f"batch_order must be a function of the epoch, got {type(batch_order).__name__}")
        if checkpoint is not None or resume is not None:
            raise ValueError("batch_order cannot be combined with checkpoint or resume: its state is not saved")
    saver = _Checkpoints.check(checkpoint, checkpoint_every, resume, epochs)
    settings = _checkpoint.fit_settings(X, Y, loss_fn, batch_size, shuffle) if checkpoint or resume else {}
    ckpt = saver.load(resume, net, settings) if resume else None
    history = ckpt.history if ckpt else History(net.runs)
    state = FitState(net=net, optimizer=optimizer, loss=loss_fn, history=history, epochs=epochs)
    state.epoch = ckpt.epoch if ckpt else 0
    guard = Divergence(net, history, whole=batch_size == n)
    saver.attach(net=net, optimizer=optimizer, rng=rng, history=history, callbacks=callbacks, fit=settings)
    for cb in callbacks:
        cb.on_fit_begin(state)
    position = saver.restore(ckpt) if ckpt else None  # after on_fit_begin: schedules read the base rate

    def row_order(epoch: int) -> np.ndarray | None:
        """A fresh epoch's row order: replayed (batch_order), drawn (shuffle), or the rows' own (None)."""
        if batch_order is not None:
            return batch_order(epoch)
        return rng.permutation(n) if shuffle else None

    with _training(saver.path is not None, progress, epochs, state.epoch) as (signals, bar):
        for epoch in range(state.epoch + 1, epochs + 1):
            order, first, totals, last_good = _epoch_start(position, loss_fn, row_order, epoch)
            guard.begin_epoch(last_good)  # the state a diverging epoch goes back to
            position = None
            for done, xb, yb in _batches(X, Y, batch_size, order, first):
                z = net.forward(xb, train=True)  # forward
                value, dz = loss_fn.value_and_gradient(z, yb)  # loss, and d loss / d z
                batch_loss = totals.add(value, z, yb)  # the epoch's running sums; this batch's summed loss
                guard.before_update(batch_loss)  # one batch per epoch, its loss not finite: keep the epoch's start
                net.backward(dz, input_grad=False)  # backward (fit never needs d loss / d X)
                optimizer.step(net.params, net.grads)  # update
                guard.after_update()  # runs that diverged stay frozen
                if signals.received:  # SIGINT/SIGTERM: this step is done; save where we are and stop
                    saver.save(epoch - 1, _checkpoint.Position(done, order, totals.state_dict(), guard.kept()))
                    raise _interrupted(signals, saver.path, epoch, done, n)
            metrics = guard.end_epoch(epoch, totals.metrics(n))  # NaN: roll back, raise or freeze runs
            history.append(**metrics)
            state.epoch, state.stop = epoch, state.stop or guard.everyone
            bar.epoch_done(epoch, metrics["loss"])
            for cb in callbacks:
                cb.on_epoch_end(state)
            if saver.due(epoch, state.stop or bool(signals.received)):
                saver.save(epoch)
            if signals.received:
                raise _interrupted(signals, saver.path, epoch + 1, 0, n)
            if state.stop:
                break
    for cb in callbacks:
        cb.on_fit_end(state)
    if history.diverged:
        warnings.warn(diverged_summary(history), RuntimeWarning, stacklevel=2)
    return history


def _check_arguments(
    net: Network, loss_fn: Loss, optimizer: Any, callbacks: Sequence[Any], validation: Any, early_stopping: Any,
    live: int | None = None,
) -> tuple[Optimizer, list[Callback]]:
    """``fit``'s optimizer (default ``SGD(0.1)``) and its callbacks: validation first, the caller's, early stopping."""
    optimizer = SGD(0.1) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a backproplab Optimizer, got {type(optimizer).__name__}")
    callbacks = list(callbacks) + ([LivePlot(every=check_positive_int("live", live))] if live is not None else [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if validation is not None or early_stopping is not None:
        callbacks = attach(net, loss_fn, validation, early_stopping, callbacks)
    return optimizer, callbacks


def _epoch_start(
    position: _checkpoint.Position | None, loss_fn: Loss, row_order: Callable[[int], np.ndarray | None], epoch: int
) -> tuple[np.ndarray | None, int, EpochTotals, dict[str, np.ndarray] | None]:
    """An epoch's row order (None: rows in their own order), first row, running sums and saved starting state.

    A fresh epoch takes ``row_order(epoch)``; a run resumed inside an epoch takes the
    saved order, sums, starting row and the state at the epoch's start (``position``).
    """
    if position is not None:
        totals = EpochTotals.from_state_dict(loss_fn, position.totals)
        return position.order, position.start, totals, position.last_good
    return row_order(epoch), 0, EpochTotals(loss_fn), None


def _batches(
    X: np.ndarray, Y: np.ndarray, batch_size: int, order: np.ndarray | None, first: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The mini-batches of one epoch from row ``first`` on: ``(rows done after it, xb, yb)``."""
    n = X.shape[-2]
    for start in range(first, n, batch_size):
        stop = min(start + batch_size, n)
        if batch_size == n:  # one batch: the data itself
            yield stop, X, Y
        elif order is None:
            yield stop, X[..., start:stop, :], Y[..., start:stop, :]
        else:  # gather only this batch's rows: a shuffled copy of X would double its memory
            rows = order[start:stop]
            yield stop, X.take(rows, axis=-2), Y.take(rows, axis=-2)  # np.take without its Python wrapper


@contextlib.contextmanager
def _training(checkpointing: bool, progress: bool, epochs: int, done: int) -> Iterator[tuple[Any, _Progress]]:
    """What surrounds the loop: deferred signals (with a checkpoint to write), the progress bar, quiet overflow.

    Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as warnings.
    """
    with np.errstate(over="ignore", invalid="ignore"), contextlib.ExitStack() as stack:
        bar = stack.enter_context(_Progress(epochs, done, progress))
        yield stack.enter_context(_interrupt.deferred_signals(enabled=checkpointing)), bar


class _Progress:
    """The epochs' bar: on a terminal's stderr or in a Jupyter kernel (``progress.progress_bar``), else none."""

    def __init__(self, epochs: int, done: int, enabled: bool) -> None:
        self.epochs = epochs
        self.bar = progress_bar(epochs, initial=done, desc="epochs", unit="ep", enabled=enabled)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def epoch_done(self, epoch: int, loss: np.ndarray | float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if epoch % 10 == 0 or epoch == self.epochs:
                self.bar.set_postfix_str(f"loss {np.nanmean(loss):.4f}", refresh=False)


class _Checkpoints:
    """Writes the training state to ``path``: every ``every`` epochs, at the end, at a stop and on a signal.

    ``fit`` saves with ``save`` between steps (on a signal, with the position inside
    the epoch) and at an epoch's end when ``due``. Without a path it writes nothing.
    """

    def __init__(self, path: Path | None, every: int | None, epochs: int) -> None:
        self.path, self.every, self.epochs = path, every, epochs
        self.blocks: dict[int, str] = {}  # history blocks written so far: each is written once
        self.objects: dict[str, Any] = {}

    @classmethod
    def check(cls, path: Any, every: Any, resume: Any, epochs: int) -> _Checkpoints:
        """Validate ``fit``'s checkpoint arguments before any work starts."""
        path, resume = _checkpoint.check_paths(path, resume)
        if every is not None:
            every = check_positive_int("checkpoint_every", every)
            if path is None:
                raise ValueError("checkpoint_every needs checkpoint=PATH, the file to write the state to")
        if path:
            _checkpoint.remove_stale_temporaries(path)
        return cls(path, every, epochs)

    def load(self, resume: Any, net: Network, settings: dict[str, Any]) -> _checkpoint.Checkpoint:
        """The checkpoint to resume from, checked against this run (applied by ``restore``)."""
        return _checkpoint.resume(Path(resume), net, settings, self.epochs)

    def attach(self, **objects: Any) -> None:
        """What a checkpoint saves: net, optimizer, rng (the shuffling's), history, callbacks, fit (settings)."""
        self.objects = objects

    def restore(self, ckpt: _checkpoint.Checkpoint) -> _checkpoint.Position | None:
        """Put the checkpoint's state back; returns where inside an epoch it was taken (or None)."""
        o = self.objects
        _checkpoint.restore_callbacks(ckpt, o["callbacks"])
        _checkpoint.restore(ckpt, o["net"], o["optimizer"], o["rng"])
        o["optimizer"].lr = float(ckpt.optimizer["lr"])
        return ckpt.position

    def due(self, epoch: int, stop: bool) -> bool:
        """Whether to save at the end of ``epoch``: every ``every`` epochs, the last, and a stop (or signal)."""
        return self.path is not None and (stop or epoch == self.epochs or epoch % (self.every or self.epochs) == 0)

    def save(self, epoch: int, position: _checkpoint.Position | None = None) -> None:
        """Write the state after ``epoch`` epochs (and ``position`` rows into the next)."""
        _checkpoint.save_checkpoint(self.path, epoch=epoch, position=position, blocks=self.blocks, **self.objects)


def _interrupted(signals: _interrupt.Signals, path: Any, epoch: int, done: int, n: int) -> TrainingInterrupted:
    where = f"after {done} of {n} rows of epoch {epoch}" if done else f"before epoch {epoch}"
    return TrainingInterrupted(
        f"training interrupted by {signals.name} {where}; the state is saved in {path}. "
        f"Resume with fit(..., resume={str(path)!r}).",
        signum=int(signals.received or 0),
        checkpoint=path,
        epoch=epoch,
    )
