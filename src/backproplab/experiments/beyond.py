"""Beyond the report: questions it raises, each answered over many seeds.

- *How wide must the hidden layer be, and how long must training run, for XOR
  to be learned?* ``width_sweep`` trains XOR with 1, 2, 3, 4 and 8 hidden units
  and records, every few epochs, the share of seeds that have learned it. With
  plain full-batch gradient descent the state after ``e`` epochs of a long run is
  the state of an ``e``-epoch run, so one run per width answers both questions.
- *What do tanh and ReLU hidden layers change against sigmoid?*
  ``activation_sweep`` trains the report's three experiments with each hidden
  activation (same He initialisation, learning rate, batch and epochs) and
  measures the speed of convergence (epochs until the loss falls below a
  threshold) and the confidence of the outputs (mean probability given to the
  right answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..train.loop import Callback, FitState
from .build import Trained, train, training_data_of
from .config import ExperimentConfig
from .stats import band, confidence, first_epoch_below, learned


class LearnedEvery(Callback):
    """Record, every ``every`` epochs, which runs have learned the function: ``(R,)`` bools."""

    def __init__(self, X: np.ndarray, y: np.ndarray, every: int) -> None:
        self.X, self.y, self.every = X, y, every
        self.epochs: list[int] = []
        self.learned: list[np.ndarray] = []

    def on_epoch_end(self, state: FitState) -> None:
        if state.epoch % self.every == 0:
            p = state.net.predict_proba(self.X)[..., 0]  # (R, B)
            self.epochs.append(state.epoch)
            self.learned.append(learned(p, self.y))


@dataclass
class WidthSweep:
    """Share of seeds that learned XOR, by hidden width and epoch.

    Attributes
    ----------
    widths : tuple of int, ``(W,)``
    epochs : ndarray, ``(E,)``
        Epochs at which the share was measured.
    share : ndarray, ``(W, E)``
    final_loss_band : ndarray, ``(W, 3)``
        5 %, median, 95 % of the final training loss.
    seeds : int
        Runs per width.
    base : ExperimentConfig
        The configuration every width starts from.
    """

    widths: tuple[int, ...]
    epochs: np.ndarray
    share: np.ndarray
    final_loss_band: np.ndarray
    seeds: int
    base: ExperimentConfig

    def share_at(self, epoch: int) -> np.ndarray:
        """Share learned by each width at ``epoch`` (one of ``self.epochs``): ``(W,)``."""
        (index,) = np.flatnonzero(self.epochs == epoch)
        return self.share[:, index]


def width_sweep(base: ExperimentConfig, widths: Sequence[int] = (1, 2, 3, 4, 8), epochs: int = 4000,
                every: int = 50, seeds: int = 500, seed: int = 0) -> WidthSweep:
    """Train ``base`` (one hidden layer) at each width for ``epochs``, ``seeds`` runs each."""
    shares, final = [], []
    for width in widths:
        config = base.replace("model", hidden=[width]).replace("training", epochs=epochs)
        recorder = LearnedEvery(*training_data_of(config), every)
        trained = train(config, seed=seed, runs=seeds, callbacks=[recorder])
        shares.append(np.mean(recorder.learned, axis=1))  # (E,)
        final.append(band(trained.final_loss()))
    return WidthSweep(tuple(widths), np.array(recorder.epochs), np.array(shares), np.array(final), seeds, base)


@dataclass
class ActivationSweep:
    """Each report experiment trained with each hidden activation.

    Attributes
    ----------
    functions : tuple of str, ``(F,)``
        Config names (``"and"``, ``"or"``, ``"xor"``).
    activations : tuple of str, ``(A,)``
    loss_bands : dict of (function, activation) to ndarray ``(epochs, 3)``
    share : ndarray, ``(F, A)``
        Share of seeds that learned the function.
    confidence_band : ndarray, ``(F, A, 3)``
        5 %, median, 95 % over seeds of the mean probability given to the right answer.
    epochs_to_threshold : ndarray, ``(F, A)``
        Median over seeds of the first epoch with loss below ``threshold`` (``inf``
        if fewer than half get there).
    reached : ndarray, ``(F, A)``
        Share of seeds whose loss got below ``threshold``.
    threshold : float
    seeds : int
    """

    functions: tuple[str, ...]
    activations: tuple[str, ...]
    loss_bands: dict[tuple[str, str], np.ndarray]
    share: np.ndarray
    confidence_band: np.ndarray
    epochs_to_threshold: np.ndarray
    reached: np.ndarray
    threshold: float
    seeds: int


def activation_sweep(configs: Sequence[ExperimentConfig], activations: Sequence[str] = ("sigmoid", "tanh", "relu"),
                     seeds: int = 500, seed: int = 0, threshold: float = 0.1,
                     reuse: Sequence[Trained | None] = ()) -> ActivationSweep:
    """Train each config with each hidden activation, ``seeds`` runs each, all else unchanged.

    ``reuse[i]``, if given, is ``configs[i]`` already trained from seeds ``seed, seed + 1, ...``
    with at least ``seeds`` runs; its first ``seeds`` runs stand in for the cell of the
    config's own activation (runs never mix, so they equal a fresh ``seeds``-run batch).
    """
    F, A = len(configs), len(activations)
    share, reached, speed = np.zeros((F, A)), np.zeros((F, A)), np.zeros((F, A))
    conf = np.zeros((F, A, 3))
    loss_bands = {}
    reuse = list(reuse) + [None] * (F - len(reuse))
    for i, base in enumerate(configs):
        for j, activation in enumerate(activations):
            done = reuse[i]
            if (done is not None and activation == base.model.activation and done.seed == seed
                    and (done.net.runs or 1) >= seeds):
                trained = done
            else:
                trained = train(base.replace("model", activation=activation), seed=seed, runs=seeds)
            p = trained.predict_proba()[:seeds]  # (R, B)
            loss = trained.history.loss[:, :seeds]  # (E, R)
            loss_bands[(base.name, activation)] = band(loss, axis=1)
            share[i, j] = np.mean(learned(p, trained.y))
            conf[i, j] = band(confidence(p, trained.y))
            first = first_epoch_below(loss, threshold)
            reached[i, j] = np.mean(np.isfinite(first))
            speed[i, j] = np.median(first)
    return ActivationSweep(tuple(c.name for c in configs), tuple(activations), loss_bands, share, conf, speed,
                           reached, threshold, seeds)
