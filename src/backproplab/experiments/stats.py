"""Statistics over many seeds: how much can one training run tell?

The report shows one run per function. Training ``R`` networks that differ only
in their initial weights (the runs axis, seeds ``s .. s + R - 1``) turns each of
its numbers into a distribution: the share of seeds that learn the function,
the median and 5-95 % range of every prediction, and where the report's single
value falls in that distribution.

Every function here takes arrays computed from the runs and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .build import Trained

#: Quantiles of every band: 5 %, median, 95 %.
BAND = (5.0, 50.0, 95.0)


def learned(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether every row is on the right side of 0.5.

    Parameters
    ----------
    p : ndarray, ``(B,)`` or ``(R, B)``
        Predicted probability of class 1.
    y : ndarray, ``(B,)``
        Targets in ``{0, 1}``.

    Returns
    -------
    bool or ndarray of bool, ``(R,)``
    """
    return np.all((p > 0.5) == (y > 0.5), axis=-1)


def confidence(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean probability given to the right answer, per run: ``(R, B) -> (R,)``.

    1 means certain and right, 0.5 a coin toss; below 0.5 the run is wrong on average.
    """
    return np.mean(np.where(y > 0.5, p, 1.0 - p), axis=-1)


def percentile_of(values: np.ndarray, x: float) -> float:
    """Percentile rank of ``x`` among ``values`` (``(R,)``), in [0, 100].

    The share of values below ``x`` plus half the share equal to it
    (``scipy.stats.percentileofscore(kind="mean")``).
    """
    values = np.asarray(values)
    return float(100.0 * (np.sum(values < x) + 0.5 * np.sum(values == x)) / values.size)


def band(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The 5 %, 50 % and 95 % quantiles along ``axis``, stacked on a new last axis: ``(..., 3)``."""
    return np.moveaxis(np.percentile(values, BAND, axis=axis), 0, -1)


def first_epoch_below(loss: np.ndarray, threshold: float) -> np.ndarray:
    """Epoch (1-based) at which each run's loss first falls below ``threshold``.

    ``loss`` is ``(epochs, R)``; runs that never get there give ``inf``.
    """
    below = loss < threshold  # (E, R)
    return np.where(below.any(axis=0), below.argmax(axis=0) + 1.0, np.inf)


@dataclass
class SeedStats:
    """One configuration trained from many seeds.

    Attributes
    ----------
    seeds : ndarray, ``(R,)``
    predictions : ndarray, ``(R, B)``
        Final predicted probability of every run on every row.
    final_loss : ndarray, ``(R,)``
        Loss of each run's final parameters on the training rows.
    learned : ndarray of bool, ``(R,)``
    loss_band : ndarray, ``(epochs, 3)``
        5 %, median and 95 % of the training loss at every epoch.
    prediction_band : ndarray, ``(B, 3)``
        5 %, median and 95 % of each row's prediction.
    reference_percentile : ndarray, ``(B,)``, or None
        Percentile rank of the reference's value of each row among the runs.
    """

    seeds: np.ndarray
    predictions: np.ndarray
    final_loss: np.ndarray
    learned: np.ndarray
    loss_band: np.ndarray
    prediction_band: np.ndarray
    reference_percentile: np.ndarray | None

    @property
    def share_learned(self) -> float:
        """Share of the runs that learned the function."""
        return float(np.mean(self.learned))


def seed_stats(trained: Trained) -> SeedStats:
    """Statistics of a many-run ``Trained`` (a network with a runs axis)."""
    if trained.net.runs is None:
        raise ValueError("seed_stats needs a network with a runs axis (runs >= 2)")
    p = trained.predict_proba()  # (R, B)
    loss = trained.history.loss  # (E, R)
    reference = trained.config.reference.predicted
    percentile = None
    if reference is not None:
        percentile = np.array([percentile_of(p[:, i], x) for i, x in enumerate(reference)])
    return SeedStats(
        seeds=trained.seed + np.arange(trained.net.runs),
        predictions=p,
        final_loss=np.asarray(trained.final_loss()),  # of the final parameters, like the predictions
        learned=learned(p, trained.y),
        loss_band=band(loss, axis=1),
        prediction_band=band(p, axis=0),
        reference_percentile=percentile,
    )
