"""From a config to a trained network: build the data, the network and the optimizer, then fit.

This is the one path every front end takes (``backproplab train``, ``reproduce``,
the sweeps), so a config means the same thing everywhere::

    config -> training_data_of -> build_network -> build_optimizer -> fit -> Trained

Logic tables train on their four rows, as the report did. Every other data set
(toy sets, Iris, digits, MNIST-1D, MNIST) is split by ``dataset_of`` into
train/validation/test parts, seeded by the run's seed; the validation part is
evaluated every epoch (and drives early stopping when ``patience`` is set).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from ..core.network import Network, loss_and_gradients, mlp
from ..core.optim import Optimizer, get_optimizer
from ..data import GATES, Dataset, load, logic_table
from ..train.early_stopping import EarlyStopping
from ..train.loop import Callback, History, fit
from ..train.schedules import SCHEDULES, Schedule
from .config import ConfigError, ExperimentConfig


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


def training_data_of(config: ExperimentConfig, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The training data ``X: (B, D_in)``, ``y: (B,)`` named by ``config.data`` (the training part of a split).

    Not a loader of its own: the one loader is ``backproplab.data.load``; this reads a config's ``[data]`` for it.
    """
    if config.data.name in GATES:
        return logic_table(config.data.name, dtype=config.model.dtype)
    ds = dataset_of(config, seed)
    return ds.X_train, ds.y_train


def dataset_of(config: ExperimentConfig, seed: int | None = None) -> Dataset:
    """``config.data`` as a ``Dataset`` (``backproplab.data.load``, the one loader), split with ``seed`` (default:
    the config's) and cast to the model's dtype."""
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


def check_config(config: ExperimentConfig) -> Dataset | None:
    """Check, before any training, that ``config`` can train on its data; return the split data set (None for logic).

    Refused with a ``ConfigError`` naming the value and the fix:

    - an output that does not fit the data: softmax for a logic table (one
      sigmoid unit, as the report), identity (regression, MSE) for a data set of
      class labels;
    - a data set too small to split: every part with a share above 0 needs rows;
    - a network whose training would not fit in the memory available
      (``memory_needed`` against ``available_memory``).
    """
    data, model = config.data, config.model
    logic = data.name in GATES or data.name == "parity"
    if logic and model.output == "softmax":
        raise ConfigError(f"output softmax does not fit {data.name}: a logic table trains one sigmoid output unit, "
                          "as the report did; use --output sigmoid")
    if not logic and model.output == "identity":
        raise ConfigError(f"output identity (regression, mean squared error) does not fit {data.name}, a data set of "
                          "class labels; use --output sigmoid (two classes) or softmax")
    with warnings.catch_warnings():  # a split with no training rows warns on its empty mean: refused below
        warnings.simplefilter("ignore", RuntimeWarning)
        dataset = None if data.name in GATES else dataset_of(config)
    if dataset is not None and not logic:
        _check_split(config, dataset)
    n_inputs = 2 if dataset is None else dataset.n_features
    n_rows = 4 if dataset is None else len(dataset.y_train)
    n_outputs = dataset.n_classes if dataset is not None and model.output == "softmax" else 1
    sizes = [n_inputs, *model.hidden, n_outputs]
    need, have = memory_needed(config, sizes, n_rows), available_memory()
    if have is not None and need > have:
        runs = config.training.runs
        raise ConfigError(f"a {'-'.join(map(str, sizes))} network{f' x {runs} runs' if runs > 1 else ''} needs about "
                          f"{_gib(need)} of memory to train, and {_gib(have)} is available; use smaller --hidden "
                          "layers" + (" or fewer --runs" if runs > 1 else ""))
    return dataset


def _check_split(config: ExperimentConfig, ds: Dataset) -> None:
    data = config.data
    parts = {"training": len(ds.y_train), "validation": len(ds.y_val), "test": len(ds.y_test)}
    official_test = data.name in ("mnist1d", "mnist")  # their own test sets: the test share is not cut
    wanted = {"training": 1.0, "validation": data.val, "test": 0 if official_test else data.test}
    empty = [part for part, n in parts.items() if wanted[part] > 0 and n == 0]
    if not empty and parts["training"] >= 2:
        return
    counts = ", ".join(f"{n} {part}" for part, n in parts.items())
    fix = ""
    if data.name in ("moons", "circles", "spirals", "blobs"):
        shares = [share for share in (data.val, data.test) if share > 0]
        start = max([int(0.5 / share) for share in shares], default=1)  # below it a share rounds to 0 rows
        per_class = next((c for c in range(max(start, 1), start + 1000)  # the split rounds each class's parts
                          if all(round(share * c) >= 1 for share in shares)
                          and c - round(data.val * c) - round(data.test * c) >= 1), None)
        if per_class is not None:
            fix = f": use --n-samples {per_class * max(ds.n_classes or 2, 2)} or more"
    raise ConfigError(f"{data.name} with n_samples = {data.n_samples} is too small to split (val {data.val:g}, "
                      f"test {data.test:g}): it gives {counts} rows, and every part needs at least one{fix}")


def memory_needed(config: ExperimentConfig, sizes: Sequence[int], n_rows: int) -> int:
    """Bytes that training the ``sizes`` network of ``config`` needs, roughly (a lower bound, for refusing early).

    Per run: the parameters, their gradients, the copy taken at each epoch's start
    (divergence rollback), the optimizer's buffers (1 for momentum and RMSprop,
    2 for Adam) and early stopping's best copy; the activations of a batch
    (forward values and their gradients, about 3 arrays per layer); and the
    training rows.
    """
    training = config.training
    itemsize = np.dtype(config.model.dtype).itemsize
    n_params = sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(sizes))
    buffers = {"adam": 2, "adamw": 2, "rmsprop": 1, "momentum": 1, "nesterov": 1}.get(training.optimizer,
                                                                                   int(bool(training.momentum)))
    copies = 3 + buffers + (training.patience is not None)
    rows = max(min(training.batch_size, n_rows), 1)
    activations = 3 * rows * sum(sizes[1:])
    return itemsize * (training.runs * (copies * n_params + activations) + n_rows * (sizes[0] + 1))


def available_memory() -> int | None:
    """Bytes of memory this process may still use: the lesser of the system's available memory and its cgroup's room.

    None when neither can be read (then nothing is refused).
    """
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current") as f:
                limits.append(int(limit) - int(f.read().strip()))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


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
          callbacks: Sequence[Callback] = (), data_seed: int | None = None, dataset: Dataset | None = None,
          **fit_options: Any) -> Trained:
    """Train the network ``config`` describes (``seed``/``runs`` override the config's).

    ``data_seed`` seeds the data split and the shuffling (default: ``seed``); a sweep
    holds it fixed while ``seed`` moves over chunks of runs, so that run ``r`` of a
    chunk starting at ``s`` is run ``s + r`` of one batch of all the seeds.
    ``dataset`` is the config's data set if already loaded (``check_config`` returns
    it), used when the data seed is the config's.
    ``fit_options`` go to ``fit`` as they are (``checkpoint``, ``checkpoint_every``, ``resume``).
    """
    seed = config.training.seed if seed is None else seed
    data_seed = seed if data_seed is None else data_seed
    if dataset is None or data_seed != config.training.seed:
        dataset = None if config.data.name in GATES else dataset_of(config, data_seed)
    X, y = training_data_of(config) if dataset is None else (dataset.X_train, dataset.y_train)
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
                  batch_size=config.training.batch_size, shuffle=config.training.shuffle, shuffle_seed=data_seed,
                  progress=progress, callbacks=callbacks, **fit_options)
    return Trained(config, net, history, X, y, seed, time.perf_counter() - start, dataset)
