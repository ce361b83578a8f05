"""From a config to a trained network: build the data, the network and the optimizer, then fit.

This is the one path every front end takes (``backproplab train``, ``reproduce``,
the sweeps), so a config means the same thing everywhere::

    config -> load_data -> build_network -> build_optimizer -> fit -> Trained
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import OPTIMIZERS, ExperimentConfig
from ..data import logic_table
from ..network import Network, loss_and_gradients, mlp
from ..optim import Optimizer
from ..training import Callback, History, fit


@dataclass
class Trained:
    """A trained network with everything needed to read its result.

    Attributes
    ----------
    config : ExperimentConfig
    net : Network
        One network, or ``R`` stacked runs (seeds ``seed .. seed + R - 1``).
    history : History
    X : ndarray, ``(B, D_in)``
    y : ndarray, ``(B,)``
    seed : int
        Seed of the (first) network.
    seconds : float
        Wall-clock time of ``fit``.
    """

    config: ExperimentConfig
    net: Network
    history: History
    X: np.ndarray
    y: np.ndarray
    seed: int
    seconds: float

    def predict_proba(self) -> np.ndarray:
        """Predicted probability of class 1 on the training rows: ``(B,)``, or ``(R, B)`` with runs."""
        return self.net.predict_proba(self.X)[..., 0]

    def final_loss(self) -> np.ndarray | float:
        """Loss of the trained network on the training rows: a float, or ``(R,)`` with runs.

        Unlike ``history.loss[-1]`` (measured before the last update), this is the
        loss of the parameters the predictions come from.
        """
        return loss_and_gradients(self.net, self.X, self.y, train=False)[0]


def load_data(config: ExperimentConfig) -> tuple[np.ndarray, np.ndarray]:
    """The training data ``X: (B, D_in)``, ``y: (B,)`` named by ``config.data``."""
    return logic_table(config.data.name, dtype=config.model.dtype)


def build_network(config: ExperimentConfig, n_inputs: int, *, seed: int | None = None,
                  runs: int | None = None) -> Network:
    """The network of ``config.model`` with ``n_inputs`` inputs and one (sigmoid) output.

    ``seed`` and ``runs`` default to ``config.training``; ``runs=1`` builds one
    network without a runs axis.
    """
    model, training = config.model, config.training
    runs = training.runs if runs is None else runs
    return mlp([n_inputs, *model.hidden, 1], activation=model.activation, output=model.output, init=model.init,
               seed=training.seed if seed is None else seed, runs=None if runs == 1 else runs, dtype=model.dtype)


def build_optimizer(config: ExperimentConfig) -> Optimizer:
    """The optimizer of ``config.training``."""
    training = config.training
    return OPTIMIZERS[training.optimizer](training.lr, clip_norm=training.clip_norm)


def train(config: ExperimentConfig, *, seed: int | None = None, runs: int | None = None, progress: bool = False,
          callbacks: Sequence[Callback] = (), **fit_options: Any) -> Trained:
    """Train the network ``config`` describes (``seed``/``runs`` override the config's).

    ``fit_options`` go to ``fit`` as they are (``checkpoint``, ``checkpoint_every``, ``resume``).
    """
    X, y = load_data(config)
    seed = config.training.seed if seed is None else seed
    net = build_network(config, X.shape[1], seed=seed, runs=runs)
    start = time.perf_counter()
    history = fit(net, X, y, optimizer=build_optimizer(config), epochs=config.training.epochs,
                  batch_size=config.training.batch_size, shuffle=config.training.shuffle, seed=seed,
                  progress=progress, callbacks=callbacks, **fit_options)
    return Trained(config, net, history, X, y, seed, time.perf_counter() - start)
