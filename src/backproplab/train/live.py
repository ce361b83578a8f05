"""``LivePlot``: a ``fit`` callback that redraws the loss in place in a Jupyter cell.

Every ``every`` epochs (and after the last) it replaces one display in the cell's
output with the history so far: the epoch, the latest metrics and an inline SVG
of the loss (``History``'s own display, a band over the runs with a runs axis).
The redraw is a string of a few kilobytes built from at most 200 points, so it
costs about a millisecond whatever the length of the run (benchmarks/notebook_bench.py
measures it). Outside a Jupyter kernel it does nothing: a script that uses it
prints nothing extra. IPython is imported only by a LivePlot inside a kernel.
"""

from __future__ import annotations

from typing import Any

from .._checks import check_positive_int
from ..core import _html
from ._display import history_html
from .callbacks import Callback, FitState
from .progress import in_kernel

__all__ = ["LivePlot"]


class LivePlot(Callback):
    """Redraw the loss curve in place every ``every`` epochs, in a Jupyter kernel (elsewhere: nothing).

    Parameters
    ----------
    every : int, default 10
        Epochs between redraws; the last epoch is always drawn.

    Attributes
    ----------
    redraws : int
        How many times the plot was drawn (0 outside a kernel).

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> live = bp.LivePlot(every=100)
    >>> _ = bp.fit(bp.mlp([2, 8, 1]), X, y, epochs=500, progress=False, callbacks=[live])
    >>> live.redraws  # no kernel here: nothing drawn
    0
    """

    def __init__(self, every: int = 10) -> None:
        self.every = check_positive_int("every", every)
        self.redraws = 0
        self._handle: Any = None

    def on_fit_begin(self, state: FitState) -> None:
        self._handle = None
        if in_kernel():
            from IPython.display import display

            self._handle = display(_Frame(state), display_id=True)

    def on_epoch_end(self, state: FitState) -> None:
        if self._handle is not None and (state.epoch % self.every == 0 or state.epoch == state.epochs):
            self._handle.update(_Frame(state))
            self.redraws += 1

    def on_fit_end(self, state: FitState) -> None:
        if self._handle is not None and state.epoch % self.every and state.epoch != state.epochs:
            self._handle.update(_Frame(state))  # stopped early between two redraws
            self.redraws += 1


class _Frame:
    """What one redraw shows: the history so far and where training stands."""

    def __init__(self, state: FitState) -> None:
        self.epoch, self.epochs, self.history = state.epoch, state.epochs, state.history

    def _repr_html_(self) -> str:
        return _html.safe(lambda: f"<div>epoch {self.epoch} of {self.epochs}</div>" + history_html(self.history),
                          self)

    def __repr__(self) -> str:
        return f"epoch {self.epoch} of {self.epochs}: {self.history!r}"
