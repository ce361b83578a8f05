"""The benchmark workloads of issue 5 and the data and initial weights they share.

Every implementation (backproplab, the hand-written NumPy loop, PyTorch,
scikit-learn) of one workload starts from the same data and, where it can be
set, the same initial weights, drawn once here by ``backproplab.mlp``, so that
``run.py`` can also check that they computed the same thing.

- **B1 tiny**: XOR 2-8-1, sigmoid + binary cross-entropy, full batch (4 rows),
  2000 epochs of plain SGD with lr 0.1, float64.
- **B2 many**: ``R`` independent B1 networks stacked on the runs axis (R = 1000),
  float64 and float32.
- **B3 large**: 784-256-128-10, ReLU + softmax cross-entropy, batch 128, one
  shuffled epoch over 60,000 synthetic rows, plain SGD, float32.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

import backproplab as bp


@dataclass(frozen=True)
class Workload:
    """One benchmark configuration (a comment per field)."""

    name: str  # "B1", "B2", "B3" (a suffix tells variants apart)
    sizes: tuple[int, ...]  # units per layer, input first
    activation: str  # hidden activation
    output: str  # "sigmoid" (binary cross-entropy) or "softmax" (cross-entropy)
    epochs: int
    batch_size: int
    lr: float
    dtype: str  # "float64" or "float32"
    runs: int | None = None  # stacked networks (the runs axis); None = one network
    rows: int = 4  # training rows (XOR has 4)
    seed: int = 0  # seed of the weights, the data and the shuffling

    @property
    def label(self) -> str:
        runs = f" R={self.runs}" if self.runs else ""
        return f"{self.name} {'-'.join(map(str, self.sizes))}{runs} {self.dtype}"


def b1(epochs: int = 2000) -> Workload:
    return Workload("B1", (2, 8, 1), "sigmoid", "sigmoid", epochs, 4, 0.1, "float64")


def b2(runs: int = 1000, epochs: int = 2000, dtype: str = "float64") -> Workload:
    return replace(b1(epochs), name="B2", runs=runs, dtype=dtype)


def b3(rows: int = 60_000, width: int = 256) -> Workload:
    sizes = (784, width, max(width // 2, 1), 10)
    return Workload("B3", sizes, "relu", "softmax", 1, 128, 0.01, "float32", rows=rows)


@dataclass
class Problem:
    """Data and initial weights of a workload.

    ``X``: ``(N, D_in)``; ``labels``: ``(N,)`` (0/1 for B1/B2, 0..9 for B3);
    ``Y``: ``(N, K)`` targets as the losses use them (one column of 0/1, or one-hot);
    ``params``: ``[W1, b1, W2, b2, ...]`` with a leading runs axis if the
    workload has one; ``perm``: the row order of each epoch, ``(epochs, N)``, or
    None when there is no shuffling (one batch holds all rows).
    """

    workload: Workload
    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray
    params: list[np.ndarray]
    perm: np.ndarray | None


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([0, 1, 1, 0], dtype=np.int64)


def make_problem(w: Workload) -> Problem:
    """Data, initial weights and shuffling order for ``w`` (all seeded)."""
    dt = np.dtype(w.dtype)
    if w.output == "sigmoid":
        X, labels = XOR_X.astype(dt), XOR_Y
        Y = labels[:, None].astype(dt)
    else:
        rng = np.random.default_rng(w.seed)
        X = rng.standard_normal((w.rows, w.sizes[0]), dtype=np.float32).astype(dt, copy=False)
        # Labels from a random linear teacher: learnable, unlike random labels.
        teacher = rng.standard_normal((w.sizes[0], w.sizes[-1]), dtype=np.float32)
        labels = (X @ teacher).argmax(axis=1)
        Y = np.eye(w.sizes[-1], dtype=dt)[labels]
    net = bp.mlp(list(w.sizes), activation=w.activation, output=w.output, seed=w.seed, runs=w.runs, dtype=w.dtype)
    params = [p.copy() for p in net.params.values()]
    perm = None
    if w.batch_size < w.rows:
        # The same draws as backproplab.fit(seed=w.seed): one permutation per epoch.
        rng = np.random.default_rng(w.seed)
        perm = np.stack([rng.permutation(w.rows) for _ in range(w.epochs)])
    return Problem(w, X, labels, Y, params, perm)
