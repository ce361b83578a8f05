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
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import checkpoint as _checkpoint
from . import interrupt as _interrupt
from ._checks import check_bool, check_positive_int
from .callbacks import Callback, FitState, History
from .early_stopping import attach
from .errors import DivergenceError, TrainingInterrupted
from .losses import Loss
from .network import Network, check_data
from .optim import SGD, Optimizer

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
    seed: int = 0,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    validation: tuple[Any, Any] | None = None,
    early_stopping: Any = None,
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
    checkpoint : path, optional
        File to keep the full training state in (``backproplab.checkpoint``),
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
        ``val_loss`` (and ``val_accuracy``), per run. See ``backproplab.early_stopping``.
    early_stopping : EarlyStopping, dict or True, optional
        Stop when the monitored metric (default ``val_loss``, or ``loss`` without
        validation data) stops improving, and restore each run's best parameters.
        A dict holds ``EarlyStopping``'s options (``patience``, ``min_delta``,
        ``restore_best``, ``monitor``).

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
    optimizer = SGD(0.1) if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a backproplab Optimizer, got {type(optimizer).__name__}")
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_positive_int("seed", seed, minimum=0)  # None would make the run irreproducible
    shuffle, progress = check_bool("shuffle", shuffle), check_bool("progress", progress)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if validation is not None or early_stopping is not None:
        callbacks = attach(net, loss_fn, validation, early_stopping, callbacks)
    checkpoint, resume = _checkpoint.check_paths(checkpoint, resume)
    if checkpoint_every is not None:
        checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
        if checkpoint is None:
            raise ValueError("checkpoint_every needs checkpoint=PATH, the file to write the state to")

    n = X.shape[-2]
    batch_size = min(batch_size, n)
    shuffle = shuffle and batch_size < n
    rng = np.random.default_rng(seed)
    settings = _checkpoint.fit_settings(X, Y, loss_fn, batch_size, shuffle) if checkpoint or resume else {}
    ckpt = _checkpoint.resume(resume, net, settings, epochs) if resume else None  # checked, not yet applied
    if checkpoint:
        _checkpoint.remove_stale_temporaries(checkpoint)
    history = ckpt.history if ckpt else History(net.runs)
    position = ckpt.position if ckpt else None  # set when resuming inside an epoch
    frozen = _FrozenRuns(net, history)
    state = FitState(net=net, optimizer=optimizer, loss=loss_fn, history=history, epochs=epochs)
    state.epoch = ckpt.epoch if ckpt else 0
    bar = _progress_bar(epochs) if progress else None
    if bar is not None and state.epoch:
        bar.update(state.epoch)
    for cb in callbacks:
        cb.on_fit_begin(state)
    if ckpt:  # after on_fit_begin, so that learning-rate schedules read the base rate
        _checkpoint.restore_callbacks(ckpt, callbacks)
        _checkpoint.restore(ckpt, net, optimizer, rng)
        optimizer.lr = float(ckpt.optimizer["lr"])

    def save(epoch: int, at: _checkpoint.Position | None = None) -> None:
        _checkpoint.save_checkpoint(
            checkpoint, net=net, optimizer=optimizer, rng=rng, history=history, epoch=epoch, fit=settings, position=at,
            callbacks=callbacks,
        )

    # Overflow on the way to a NaN loss is reported once, as a DivergenceError, not as warnings.
    with np.errstate(over="ignore", invalid="ignore"), contextlib.ExitStack() as cleanup:
        if bar is not None:
            cleanup.callback(bar.close)
        signals = cleanup.enter_context(_interrupt.deferred_signals(enabled=checkpoint is not None))
        # The state a diverging epoch is rolled back to (see _snapshot). When one batch is the whole
        # epoch, its loss is known before the only update, so the copy is taken only for a batch
        # whose loss is not finite; otherwise at every epoch's start. `spare` keeps the arrays.
        spare = last_good = None
        whole = batch_size == n  # one batch per epoch, rows in their own order
        for epoch in range(state.epoch + 1, epochs + 1):
            if position is None:
                if whole:
                    last_good = None
                else:
                    last_good = spare = _snapshot(net, into=spare)
                order = rng.permutation(n) if shuffle else None
                first, total_loss, total_correct = 0, 0.0, 0
            else:  # resuming inside an epoch: its row order, running sums and starting point
                last_good, order, first = position.last_good, position.order, position.start
                total_loss, total_correct = position.loss_sum, position.correct
                position = None
            holding = bool(frozen)  # runs freeze only at an epoch's end: one test per epoch, not per step
            for start in range(first, n, batch_size):
                if whole:
                    xb, yb = X, Y
                elif order is None:
                    xb = X[..., start : start + batch_size, :]
                    yb = Y[..., start : start + batch_size, :]
                else:  # gather only this batch's rows: a shuffled copy of X would double its memory
                    rows = order[start : start + batch_size]
                    xb, yb = np.take(X, rows, axis=-2), np.take(Y, rows, axis=-2)
                z = net.forward(xb, train=True)
                value, dz = loss_fn.value_and_gradient(z, yb)
                batch_loss = value * xb.shape[-2]
                if whole and not _all_finite(batch_loss):
                    last_good = spare = _snapshot(net, into=spare)  # before the update: this epoch's start
                total_loss = total_loss + batch_loss
                if loss_fn.classifier:
                    total_correct = total_correct + loss_fn.correct(z, yb)
                net.backward(dz, input_grad=False)  # fit never needs d loss / d X
                optimizer.step(net.params, net.grads)
                if holding:
                    frozen.hold()
                if signals.received:
                    done = min(start + batch_size, n)
                    # A whole-batch epoch with a finite loss took no snapshot and never rolls back:
                    # any state will do for the position's field.
                    kept = _snapshot(net) if last_good is None else last_good
                    save(epoch - 1, _checkpoint.Position(done, order, total_loss, total_correct, kept))
                    raise _interrupted(signals, checkpoint, epoch, done, n)
            epoch_loss = total_loss / n
            if net.runs is None and not math.isfinite(epoch_loss):  # a scalar: math is 5x cheaper than np
                net.load_state_dict(last_good)
                raise _divergence(epoch_loss, epoch)
            metrics = {"loss": epoch_loss}
            if loss_fn.classifier:
                metrics["accuracy"] = total_correct / n
            if net.runs is not None:
                metrics = frozen.check(epoch, metrics, last_good)
                state.stop = state.stop or frozen.everyone
            history.append(**metrics)
            state.epoch = epoch
            if bar is not None:
                bar.update(1)
                if epoch % 10 == 0 or epoch == epochs:
                    bar.set_postfix_str(f"loss {np.nanmean(epoch_loss):.4f}", refresh=False)
            for cb in callbacks:
                cb.on_epoch_end(state)
            due = state.stop or epoch == epochs or signals.received or epoch % (checkpoint_every or epochs) == 0
            if checkpoint and due:
                save(epoch)
            if signals.received:
                raise _interrupted(signals, checkpoint, epoch + 1, 0, n)
            if state.stop:
                break
    for cb in callbacks:
        cb.on_fit_end(state)
    if history.diverged:
        warnings.warn(_diverged_summary(history), RuntimeWarning, stacklevel=2)
    return history


class _FrozenRuns:
    """Runs of a stacked network whose loss stopped being finite, held at their last finite parameters.

    Costs nothing while every run is alive. Once some are frozen, one indexed
    copy per parameter and step puts them back: cheaper than masking every
    update, and exact whatever the optimizer keeps in its state for them.
    """

    def __init__(self, net: Network, history: History) -> None:
        self.net, self.history = net, history
        self._hold_current()

    def _hold_current(self) -> None:
        self.runs = np.array(sorted(self.history.diverged), dtype=np.intp)
        self.values = {name: p[self.runs].copy() for name, p in self._per_run().items()} if self.runs.size else {}

    def _per_run(self) -> dict[str, np.ndarray]:
        """Parameters and buffers (batch norm's running statistics) that carry the runs axis."""
        return {name: a for name, a in self.net.state_dict().items() if a.ndim == 3 and a.shape[0] == self.net.runs}

    def __bool__(self) -> bool:
        return bool(self.runs.size)

    @property
    def everyone(self) -> bool:
        """Whether every run has diverged (nothing is left to train)."""
        return self.runs.size == self.net.runs

    def hold(self) -> None:
        """Put the frozen runs' parameters (and buffers) back after an update."""
        for name, p in self._per_run().items():
            p[self.runs] = self.values[name]

    def check(self, epoch: int, metrics: dict[str, Any], last_good: dict[str, np.ndarray]) -> dict[str, Any]:
        """Freeze the runs whose loss this epoch is not finite; return metrics with NaN for all frozen runs."""
        if not self.runs.size and _all_finite(metrics["loss"]):
            return metrics  # every run alive and finite: nothing to scan
        bad = ~np.isfinite(metrics["loss"])
        bad[self.runs] = False
        new = np.flatnonzero(bad)
        if new.size:
            for name, p in self._per_run().items():
                p[new] = last_good[name][new]
            self.history.diverged.update((int(r), epoch) for r in new)
            self._hold_current()
        if not self.runs.size:
            return metrics
        masked = {}
        for name, value in metrics.items():
            masked[name] = np.array(value, dtype=np.float64)
            masked[name][self.runs] = np.nan
        return masked


def _all_finite(loss: np.ndarray | float) -> bool:
    """Whether a loss (a float, or one per run) is finite everywhere, in one scalar test.

    A sum is finite only if every term is; a sum that overflows to inf only sends
    the caller down its careful path.
    """
    return math.isfinite(np.add.reduce(loss) if isinstance(loss, np.ndarray) else loss)


def _snapshot(net: Network, into: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """A copy of the parameters and buffers: the last finite state a diverging epoch is rolled back to.

    ``into``, the previous epoch's snapshot, is overwritten and returned: nothing
    keeps a snapshot past its epoch, and for many stacked runs a fresh copy of
    every parameter at every epoch costs more in page faults than in copying.
    """
    state = net.state_dict()
    if into is None or into.keys() != state.keys():
        return {name: value.copy() for name, value in state.items()}
    for name, value in state.items():
        into[name][...] = value  # cheaper than np.copyto for the tiny arrays of a small network
    return into


def _diverged_summary(history: History) -> str:
    first = sorted(history.diverged.items())[:10]
    listed = ", ".join(f"run {r} in epoch {e}" for r, e in first) + (", ..." if history.n_diverged > 10 else "")
    return (
        f"{history.n_diverged} of {history.runs} runs diverged (NaN or infinite loss) and were frozen at their "
        f"last finite parameters: {listed}. See history.diverged; try a smaller learning rate or clip_norm."
    )


def _interrupted(signals: _interrupt.Signals, path: Any, epoch: int, done: int, n: int) -> TrainingInterrupted:
    where = f"after {done} of {n} rows of epoch {epoch}" if done else f"before epoch {epoch}"
    return TrainingInterrupted(
        f"training interrupted by {signals.name} {where}; the state is saved in {path}. "
        f"Resume with fit(..., resume={str(path)!r}).",
        signum=int(signals.received or 0),
        checkpoint=path,
        epoch=epoch,
    )


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
