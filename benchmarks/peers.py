"""The peers: PyTorch (CPU, eager) and scikit-learn's MLPClassifier, each written as its users would.

Both are optional. ``available()`` says which can be imported; a workload a peer
cannot run is reported as such by ``run.py`` and skipped.

PyTorch is written at its best for these tiny models: raw tensors and the
functional API (no ``nn.Module`` dispatch), ``addmm``/``baddbmm`` fusing the bias,
``torch.optim.SGD`` with its multi-tensor (``foreach``) update, and for B2 one
batched matmul over the runs axis. It starts from backproplab's initial weights,
so ``run.py`` can check it computed the same thing.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from hand import Result
from workloads import Problem


def available() -> dict[str, str | None]:
    """Version of each peer, or None if it cannot be imported."""
    out: dict[str, str | None] = {}
    for name, module in (("torch", "torch"), ("sklearn", "sklearn")):
        if importlib.util.find_spec(module) is None:
            out[name] = None
            continue
        try:
            out[name] = __import__(module).__version__
        except Exception:
            out[name] = None
    return out


# --- PyTorch ----------------------------------------------------------------------------


def torch_xor(prob: Problem) -> Callable[[], Result]:
    """B1/B2 in PyTorch: sigmoid 2-8-1 + BCE-with-logits, full batch, SGD.

    With a runs axis the loss is the sum over runs of each run's batch mean,
    so every run gets exactly its own gradient, as in backproplab.
    """
    import torch
    import torch.nn.functional as F

    w = prob.workload
    X = torch.from_numpy(prob.X)
    Y = torch.from_numpy(prob.Y)
    runs = w.runs
    if runs:
        X = X.expand(runs, *X.shape)  # (R, B, 2), a view
        Y = Y.expand(runs, *Y.shape)
    lin = torch.baddbmm if runs else torch.addmm  # bias + x @ W in one call

    def run() -> Result:
        params = [torch.tensor(p, requires_grad=True) for p in prob.params]
        W1, b1, W2, b2 = params
        opt = torch.optim.SGD(params, lr=w.lr)
        losses = torch.empty((w.epochs, *((runs,) if runs else ())), dtype=X.dtype)
        for e in range(w.epochs):
            z2 = lin(b2, torch.sigmoid(lin(b1, X, W1)), W2)  # (R, B, 1)
            per_run = F.binary_cross_entropy_with_logits(z2, Y, reduction="none").mean(dim=(-2, -1))
            opt.zero_grad(set_to_none=True)
            per_run.sum().backward()
            opt.step()
            losses[e] = per_run.detach()
        return Result([p.detach().numpy() for p in params], losses.numpy())

    return run


def torch_mnist_like(prob: Problem) -> Callable[[], Result]:
    """B3 in PyTorch: ``nn.Sequential`` of Linear/ReLU, cross-entropy, SGD, the same batches."""
    import torch
    from torch import nn

    w = prob.workload
    X = torch.from_numpy(prob.X)
    labels = torch.from_numpy(prob.labels)
    perm = torch.from_numpy(prob.perm)
    n, bs = X.shape[0], w.batch_size

    def run() -> Result:
        sizes = w.sizes
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            lin = nn.Linear(fan_in, fan_out, dtype=X.dtype)
            with torch.no_grad():  # backproplab's initial weights; nn.Linear stores W transposed
                lin.weight.copy_(torch.from_numpy(prob.params[2 * i].T))
                lin.bias.copy_(torch.from_numpy(prob.params[2 * i + 1][0]))
            layers.append(lin)
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=w.lr)
        losses = np.empty(w.epochs)
        for e in range(w.epochs):
            total = torch.zeros((), dtype=torch.float64)
            for start in range(0, n, bs):
                idx = perm[e, start : start + bs]
                xb, yb = X[idx], labels[idx]
                loss = loss_fn(model(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach() * len(idx)
            losses[e] = total.item() / n
        params = []
        for lin in model[::2]:
            params += [lin.weight.detach().numpy().T, lin.bias.detach().numpy()[None, :]]
        return Result(params, losses)

    return run


def one_thread(prepare: Callable[[Problem], Callable[[], Result]]) -> Callable[[Problem], Callable[[], Result]]:
    """The same PyTorch contender with one intra-op thread, as a user who knows PyTorch would run a tiny model.

    PyTorch's default pool (one thread per core) splits even tiny operations,
    and on a 2-core machine busy with anything else its threads wait on each
    other: both settings are measured and the targets use the faster.
    """

    def prepare_one(prob: Problem) -> Callable[[], Result]:
        import torch

        run = prepare(prob)

        def run_one() -> Result:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return run()
            finally:
                torch.set_num_threads(before)

        return run_one

    return prepare_one


def torch_threads() -> int:
    """PyTorch's current intra-op thread count."""
    import torch

    return torch.get_num_threads()


# --- scikit-learn -----------------------------------------------------------------------


def _sklearn(prob: Problem, hidden: tuple[int, ...], activation: str, shuffle: bool) -> Callable[[], Result]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    w = prob.workload
    iters = w.epochs

    def run() -> Result:
        clf = MLPClassifier(
            hidden_layer_sizes=hidden,
            activation=activation,
            solver="sgd",
            learning_rate="constant",
            learning_rate_init=w.lr,
            momentum=0.0,
            nesterovs_momentum=False,
            batch_size=w.batch_size,
            alpha=0.0,
            max_iter=iters,
            shuffle=shuffle,
            tol=0.0,  # never "converged": run every epoch
            n_iter_no_change=iters,
            random_state=w.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(prob.X, prob.labels)
        params = [a for pair in zip(clf.coefs_, clf.intercepts_, strict=True) for a in pair]
        return Result(params, np.asarray(clf.loss_curve_))

    return run


def sklearn_xor(prob: Problem) -> Callable[[], Result]:
    """B1 in scikit-learn: one logistic hidden layer, ``solver="sgd"`` with no momentum and no L2.

    Its own initialisation (it cannot start from given weights); one batch holds
    all 4 rows, so shuffling is off as in backproplab.
    """
    return _sklearn(prob, prob.workload.sizes[1:-1], "logistic", shuffle=False)


def sklearn_mnist_like(prob: Problem) -> Callable[[], Result]:
    """B3 in scikit-learn: ReLU hidden layers, softmax output, shuffled mini-batches of 128."""
    return _sklearn(prob, prob.workload.sizes[1:-1], "relu", shuffle=True)
