"""What ``fit`` does when the loss stops being finite: roll back, or freeze the runs that diverged.

A network without a runs axis is restored to the end of its last finite epoch and
``DivergenceError`` raised. With a runs axis, each run whose loss becomes NaN or
infinite is frozen at its parameters from the start of that epoch while the others
train on; ``fit`` warns with ``diverged_summary`` at the end.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.network import Network
from ..errors import DivergenceError
from .callbacks import History


class Divergence:
    """What happens when the loss stops being finite: the state to roll back to, and frozen runs.

    ``last_good`` is the state at the start of the epoch. When one batch is the
    whole epoch its loss is known before the only update, so the copy is taken
    only for a batch whose loss is not finite; otherwise at every epoch's start
    (into the same arrays, ``spare``). A network without a runs axis is rolled
    back and ``DivergenceError`` raised; with one, the runs whose loss is not
    finite are frozen (``FrozenRuns``) and the others train on.
    """

    def __init__(self, net: Network, history: History, whole: bool) -> None:
        self.net, self.whole = net, whole
        self.frozen = FrozenRuns(net, history)
        self.last_good: dict[str, np.ndarray] | None = None
        self.spare: dict[str, np.ndarray] | None = None
        self.holding = False

    def begin_epoch(self, last_good: dict[str, np.ndarray] | None = None) -> None:
        """Take the epoch's starting state (``last_good``: the one a resumed epoch saved)."""
        if last_good is not None:
            self.last_good = last_good
        elif self.whole:
            self.last_good = None
        else:
            self.last_good = self.spare = snapshot(self.net, into=self.spare)
        self.holding = bool(self.frozen)  # runs freeze only at an epoch's end: one test per epoch, not per step

    def before_update(self, batch_loss: np.ndarray | float) -> None:
        if self.whole and not all_finite(batch_loss):
            self.last_good = self.spare = snapshot(self.net, into=self.spare)  # this epoch's start

    def after_update(self) -> None:
        if self.holding:
            self.frozen.hold()

    def kept(self) -> dict[str, np.ndarray]:
        """The state a checkpoint inside the epoch saves as its start.

        A whole-batch epoch with a finite loss took no snapshot and never rolls
        back: any state will do.
        """
        return snapshot(self.net) if self.last_good is None else self.last_good

    def end_epoch(self, epoch: int, metrics: dict[str, Any]) -> dict[str, Any]:
        """The epoch's metrics, NaN for frozen runs; a single network that diverged is rolled back and raises."""
        if self.net.runs is not None:
            return self.frozen.check(epoch, metrics, self.last_good)
        if not math.isfinite(metrics["loss"]):  # a scalar: math is 5x cheaper than np
            self.net.load_state_dict(self.last_good)
            raise divergence_error(metrics["loss"], epoch)
        return metrics

    @property
    def everyone(self) -> bool:
        """Whether every run has diverged (nothing is left to train)."""
        return self.net.runs is not None and self.frozen.everyone


class FrozenRuns:
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
        if not self.runs.size and all_finite(metrics["loss"]):
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


def all_finite(loss: np.ndarray | float) -> bool:
    """Whether a loss (a float, or one per run) is finite everywhere, in one scalar test.

    A sum is finite only if every term is; a sum that overflows to inf only sends
    the caller down its careful path.
    """
    return math.isfinite(np.add.reduce(loss) if isinstance(loss, np.ndarray) else loss)


def snapshot(net: Network, into: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
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


def diverged_summary(history: History) -> str:
    first = sorted(history.diverged.items())[:10]
    listed = ", ".join(f"run {r} in epoch {e}" for r, e in first) + (", ..." if history.n_diverged > 10 else "")
    return (
        f"{history.n_diverged} of {history.runs} runs diverged (NaN or infinite loss) and were frozen at their "
        f"last finite parameters: {listed}. See history.diverged; try a smaller learning rate or clip_norm."
    )


def divergence_error(epoch_loss: np.ndarray | float, epoch: int) -> DivergenceError:
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
