"""From a config to a trained network: build the data, the network and the optimizer, then fit.

This is the one path every front end takes (``backproplab train``, ``reproduce``,
the sweeps), so a config means the same thing everywhere::

    config -> load_data -> build_network -> build_optimizer -> fit -> Trained

Logic tables train on their four rows, as the report did. Every other data set
(toy sets, Iris, digits, MNIST-1D, MNIST) is split by ``load_dataset`` into
train/validation/test parts, seeded by the run's seed; the validation part is
evaluated every epoch (and drives early stopping when ``patience`` is set).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import ExperimentConfig
from ..data import GATES, Dataset, load, logic_table
from ..early_stopping import EarlyStopping
from ..network import Network, loss_and_gradients, mlp
from ..optim import Optimizer, get_optimizer
from ..schedules import SCHEDULES, Schedule
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
    #: The split data set (None for logic tables, whose four rows are all there is).
    dataset: Dataset | None = None

    def predict_proba(self) -> np.ndarray:
        """Predicted probability of class 1 on the training rows: ``(B,)``, or ``(R, B)`` with runs."""
        return self.net.predict_proba(self.X)[..., 0]

    def final_loss(self) -> np.ndarray | float:
        """Loss of the trained network on the training rows: a float, or ``(R,)`` with runs.

        Unlike ``history.loss[-1]`` (measured before the last update), this is the
        loss of the parameters the predictions come from.
        """
        return loss_and_gradients(self.net, self.X, self.y, train=False)[0]


def load_data(config: ExperimentConfig, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The training data ``X: (B, D_in)``, ``y: (B,)`` named by ``config.data`` (the training part of a split)."""
    if config.data.name in GATES:
        return logic_table(config.data.name, dtype=config.model.dtype)
    ds = load_dataset(config, seed)
    return ds.X_train, ds.y_train


def load_dataset(config: ExperimentConfig, seed: int | None = None) -> Dataset:
    """``config.data`` as a ``Dataset``, split with ``seed`` (default: the config's) and cast to the model's dtype."""
    data = config.data
    options: dict[str, Any] = {}
    if data.name in ("moons", "circles", "spirals", "blobs"):
        options["n_samples"] = data.n_samples
        if data.noise is not None:
            options["noise"] = data.noise
    ds = load(data.name, val=data.val, test=data.test, seed=config.training.seed if seed is None else seed, **options)
    dtype = config.model.dtype
    return dataclasses.replace(ds, X_train=ds.X_train.astype(dtype), X_val=ds.X_val.astype(dtype),
                               X_test=ds.X_test.astype(dtype))


def build_network(config: ExperimentConfig, n_inputs: int, *, seed: int | None = None,
                  runs: int | None = None, n_outputs: int = 1) -> Network:
    """The network of ``config.model`` with ``n_inputs`` inputs and ``n_outputs`` outputs (one sigmoid unit by default).

    ``seed`` and ``runs`` default to ``config.training``; ``runs=1`` builds one
    network without a runs axis.
    """
    model, training = config.model, config.training
    runs = training.runs if runs is None else runs
    return mlp([n_inputs, *model.hidden, n_outputs], activation=model.activation, output=model.output,
               init=model.init, seed=training.seed if seed is None else seed, runs=None if runs == 1 else runs,
               dtype=model.dtype, dropout=model.dropout, batch_norm=model.batch_norm)


def n_outputs(config: ExperimentConfig, dataset: Dataset | None) -> int:
    """Output units of the network ``train`` builds: one per class for softmax on a split data set, else one.

    Raises ``ValueError`` for a data set of more than two classes without a softmax output.
    """
    if dataset is not None and dataset.n_classes > 2 and config.model.output != "softmax":
        raise ValueError(f"{config.data.name} has {dataset.n_classes} classes: use [model] output = \"softmax\"")
    return dataset.n_classes if dataset is not None and config.model.output == "softmax" else 1


def build_optimizer(config: ExperimentConfig) -> Optimizer:
    """The optimizer of ``config.training``."""
    training = config.training
    options: dict[str, Any] = {"clip_norm": training.clip_norm}
    if training.weight_decay:
        options["weight_decay"] = training.weight_decay
    if training.momentum is not None:
        if training.optimizer not in ("sgd", "momentum", "nesterov"):
            raise ValueError(f"momentum applies to sgd, momentum and nesterov, not to {training.optimizer!r}")
        options["momentum"] = training.momentum
    return get_optimizer(training.optimizer, training.lr, **options)


def build_schedule(config: ExperimentConfig) -> Schedule | None:
    """The learning-rate schedule of ``config.training`` (None for a constant rate)."""
    training = config.training
    if training.schedule == "constant":
        return None
    if training.schedule == "step":
        return SCHEDULES["step"](training.lr_step, training.lr_gamma)
    if training.schedule == "exponential":
        return SCHEDULES["exponential"](training.lr_gamma)
    return SCHEDULES[training.schedule](training.epochs)


def train(config: ExperimentConfig, *, seed: int | None = None, runs: int | None = None, progress: bool = False,
          callbacks: Sequence[Callback] = (), data_seed: int | None = None, **fit_options: Any) -> Trained:
    """Train the network ``config`` describes (``seed``/``runs`` override the config's).

    ``data_seed`` seeds the data split and the shuffling (default: ``seed``); a sweep
    holds it fixed while ``seed`` moves over chunks of runs, so that run ``r`` of a
    chunk starting at ``s`` is run ``s + r`` of one batch of all the seeds.
    ``fit_options`` go to ``fit`` as they are (``checkpoint``, ``checkpoint_every``, ``resume``).
    """
    seed = config.training.seed if seed is None else seed
    data_seed = seed if data_seed is None else data_seed
    dataset = None if config.data.name in GATES else load_dataset(config, data_seed)
    X, y = load_data(config) if dataset is None else (dataset.X_train, dataset.y_train)
    net = build_network(config, X.shape[1], seed=seed, runs=runs, n_outputs=n_outputs(config, dataset))
    callbacks = list(callbacks)
    schedule = build_schedule(config)
    if schedule is not None:
        callbacks.append(schedule)
    if dataset is not None and len(dataset.y_val):
        fit_options.setdefault("validation", (dataset.X_val, dataset.y_val))
    if config.training.patience is not None:
        monitor = "val_loss" if "validation" in fit_options else "loss"
        fit_options.setdefault("early_stopping", EarlyStopping(monitor, patience=config.training.patience))
    start = time.perf_counter()
    history = fit(net, X, y, optimizer=build_optimizer(config), epochs=config.training.epochs,
                  batch_size=config.training.batch_size, shuffle=config.training.shuffle, seed=data_seed,
                  progress=progress, callbacks=callbacks, **fit_options)
    return Trained(config, net, history, X, y, seed, time.perf_counter() - start, dataset)
