"""Notebook displays of the learning floor's results: ``History`` and ``Recording`` (see ``core._html``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..core import _html


def history_html(history: Any) -> str:
    """The final value of each metric (median over the runs with a runs axis) and an SVG of the loss."""
    if not history.epochs:
        return _html.box("History", _html.escape("no epoch recorded yet"))
    rows, names = [], history.keys()
    for name in names:
        values = history[name]  # (E,) or (E, R)
        last = values[-1]
        with np.errstate(all="ignore"), warnings.catch_warnings():  # all-NaN columns: diverged runs
            warnings.simplefilter("ignore", RuntimeWarning)
            final = float(np.nanmedian(last)) if np.ndim(last) else float(last)
            best = np.nanmin(values, axis=0) if "loss" in name else np.nanmax(values, axis=0)
            best = float(np.nanmedian(best))
        rows.append([name, _html.number(final), _html.number(best)])
    runs = f", {history.runs} runs (medians over the runs; the band spans them)" if history.runs else ""
    diverged = f"; {history.n_diverged} runs diverged and were frozen" if history.n_diverged else ""
    best_label = "best (median over runs)" if history.runs else "best"
    return _html.box(
        f"History: {history.epochs} epochs{runs}{diverged}",
        _html.table(["metric", "final", best_label], rows, numeric=[False, True, True]),
        _html.curve(history.loss, label="training loss"),
    )


def recording_summary(recording: Any) -> str:
    """One line about a ``Recording``: frames, epochs, architecture (its text form; never the arrays)."""
    meta, epochs = recording.meta, recording.epochs
    span = f"{int(epochs[0])}..{int(epochs[-1])}" if len(epochs) else "none"
    title = f", title={meta.get('title')!r}" if meta.get("title") else ""
    return f"Recording(frames={len(epochs)}, epochs={span}, sizes={meta.get('sizes')}{title})"


def recording_html(recording: Any) -> str:
    """A summary of a ``Recording`` (never its arrays) and its loss, with how to open it in the explorer."""
    meta, arrays = recording.meta, recording.arrays
    sizes = "-".join(map(str, meta.get("sizes", [])))
    rows = [
        ["network", f"{sizes} ({', '.join(meta.get('activations', []))})"],
        ["trained", f"{meta.get('epochs')} epochs, {meta.get('optimizer')}, loss {meta.get('loss')}"],
        ["frames", f"{recording.n_frames}, every {meta.get('every')} epochs"],
        ["arrays", f"{len(arrays)}, {sum(a.nbytes for a in arrays.values()) / 1e6:.2f} MB"],
    ]
    loss = arrays.get("loss_history")
    return _html.box(
        f"Recording{': ' + meta['title'] if meta.get('title') else ''}",
        _html.table(["", ""], rows),
        _html.curve(loss, label="training loss") if loss is not None and loss.size else "",
        _html.escape("bp.explore(recording) shows it in the explorer; recording.save(path) keeps it."),
    )
