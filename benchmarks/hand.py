"""Minimal hand-written NumPy loops: the floor a library adds its overhead to.

Each loop does the arithmetic ``backproplab.fit`` does and returns what it
returns (the final weights and the per-epoch loss and accuracy), written the
way a careful NumPy programmer would write it for this one network: no classes,
no validation, no dicts, gradients of the first layer's input never computed,
in-place updates where they are natural.

Every ``prepare_*`` takes a ``workloads.Problem`` and returns a function of no
arguments that trains from the problem's initial weights and returns
``Result``; only that function is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workloads import Problem


@dataclass
class Result:
    """What one training run produced.

    ``params``: final ``[W1, b1, W2, b2, ...]`` in backproplab's layout
    (``W: (R, D_in, D_out)``); ``loss``: per-epoch mean loss, ``(epochs,)`` or
    ``(epochs, R)``; ``accuracy`` likewise, or None if not tracked.
    """

    params: list[np.ndarray]
    loss: np.ndarray
    accuracy: np.ndarray | None = None


def prepare_xor(prob: Problem) -> Callable[[], Result]:
    """B1/B2: sigmoid 2-8-1 + binary cross-entropy, full batch, plain SGD.

    The same loop serves one network and ``R`` stacked ones: the weights carry
    the runs axis and ``@`` broadcasts the shared ``X (B, 2)`` against it.
    """
    w = prob.workload
    X, Y, lr, epochs = prob.X, prob.Y, w.lr, w.epochs
    Xt = X.T  # (2, B)
    n = X.shape[0]

    def run() -> Result:
        W1, b1, W2, b2 = (p.copy() for p in prob.params)
        lead = W1.shape[:-2]  # () or (R,)
        losses = np.empty((epochs, *lead), dtype=W1.dtype)
        accs = np.empty((epochs, *lead))
        for e in range(epochs):
            z1 = X @ W1 + b1  # (R, B, 8)
            a1 = 0.5 + 0.5 * np.tanh(0.5 * z1)  # sigmoid, overflow-free
            z2 = a1 @ W2 + b2  # (R, B, 1)
            p = 0.5 + 0.5 * np.tanh(0.5 * z2)
            # Binary cross-entropy from the logits, stable for any z.
            losses[e] = (np.maximum(z2, 0) - z2 * Y + np.log1p(np.exp(-np.abs(z2)))).mean(axis=(-2, -1))
            accs[e] = ((z2 > 0) == (Y > 0.5)).mean(axis=(-2, -1))
            d2 = (p - Y) / n  # (R, B, 1)
            d1 = d2 @ W2.swapaxes(-1, -2)  # (R, B, 8)
            d1 *= a1 * (1 - a1)
            W2 -= lr * (a1.swapaxes(-1, -2) @ d2)
            b2 -= lr * d2.sum(axis=-2, keepdims=True)
            W1 -= lr * (Xt @ d1)
            b1 -= lr * d1.sum(axis=-2, keepdims=True)
        return Result([W1, b1, W2, b2], losses, accs)

    return run


def prepare_xor_runs_last(prob: Problem) -> Callable[[], Result]:
    """B2's floor in NumPy: the loop above with the runs axis last in memory, as ``fit`` now stores it.

    Every array is ``(..., R)`` and C-contiguous, so the product on the shared
    input is one GEMM over all ``R x 8`` columns, the 8 -> 1 products one
    ``einsum`` pass, every elementwise pass contiguous, and nothing is
    reallocated that can be written in place. Same arithmetic as ``fit``
    (sigmoid as ``1 / (1 + exp(-z))``, the binary cross-entropy from the logits,
    loss and accuracy per epoch), no classes, no checks, no divergence guard:
    what no layered library with this layout can beat without fusing passes.
    """
    w = prob.workload
    X, Y, lr, epochs = prob.X, prob.Y, w.lr, w.epochs
    n = X.shape[0]
    Yr, hit_1 = Y.reshape(n, 1, 1), (Y > 0.5).reshape(n, 1, 1)  # broadcast over (B, 1, R)

    def run() -> Result:
        W1, b1, W2, b2 = (np.moveaxis(p, 0, -1).copy() for p in prob.params)  # (..., R) storage, C order: copies
        r = W1.shape[-1]
        losses = np.empty((epochs, r), dtype=W1.dtype)
        accs = np.empty((epochs, r))
        with np.errstate(over="ignore", under="ignore"):
            for e in range(epochs):
                a1 = (X @ W1.reshape(2, -1)).reshape(n, 8, r)  # (B, 8, R): one GEMM for every run
                a1 += b1
                np.negative(a1, out=a1)
                np.exp(a1, out=a1)
                a1 += 1
                np.divide(1.0, a1, out=a1)  # sigmoid
                z2 = np.einsum("ikr,kjr->ijr", a1, W2)  # (B, 1, R)
                z2 += b2
                losses[e] = np.einsum("ijr->r", np.maximum(z2, 0) - z2 * Yr + np.log1p(np.exp(-np.abs(z2)))) / n
                accs[e] = np.einsum("ijr->r", (z2 >= 0) == hit_1, dtype=np.intp) / n
                d2 = np.exp(-z2)
                d2 += 1
                np.divide(1.0, d2, out=d2)
                d2 -= Yr
                d2 /= n  # (B, 1, R): d loss / d z2
                d1 = d2 * W2.reshape(1, 8, r)  # (B, 8, R)
                g = 1.0 - a1
                g *= a1
                d1 *= g
                W2 -= lr * np.einsum("ikr,ijr->kjr", a1, d2)
                b2 -= lr * np.add.reduce(d2, axis=0, keepdims=True)
                W1 -= lr * (X.T @ d1.reshape(n, -1)).reshape(2, 8, r)
                b1 -= lr * np.add.reduce(d1, axis=0, keepdims=True)
        params = [np.ascontiguousarray(np.moveaxis(p, -1, 0)) for p in (W1, b1, W2, b2)]
        return Result(params, losses, accs)

    return run


def prepare_mnist_like(prob: Problem) -> Callable[[], Result]:
    """B3: ReLU 784-256-128-10 + softmax cross-entropy, shuffled mini-batches, plain SGD."""
    w = prob.workload
    X, labels, lr, bs = prob.X, prob.labels, w.lr, w.batch_size
    n = X.shape[0]

    def run() -> Result:
        W1, b1, W2, b2, W3, b3 = (p.copy() for p in prob.params)
        losses = np.empty(w.epochs, dtype=W1.dtype)
        accs = np.empty(w.epochs)
        for e in range(w.epochs):
            perm = prob.perm[e]
            total_loss = 0.0
            correct = 0
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                xb, lab = X[idx], labels[idx]  # (B, 784), (B,)
                m = len(idx)
                rows = np.arange(m)
                z1 = xb @ W1 + b1  # (B, 256)
                a1 = np.maximum(z1, 0)
                z2 = a1 @ W2 + b2  # (B, 128)
                a2 = np.maximum(z2, 0)
                z3 = a2 @ W3 + b3  # (B, 10)
                shifted = z3 - z3.max(axis=1, keepdims=True)
                ex = np.exp(shifted)
                s = ex.sum(axis=1)
                total_loss += (np.log(s) - shifted[rows, lab]).sum()
                correct += int((z3.argmax(axis=1) == lab).sum())
                d3 = ex / s[:, None]  # softmax
                d3[rows, lab] -= 1
                d3 /= m  # (B, 10): d loss / d z3
                d2 = d3 @ W3.T  # (B, 128)
                d2 *= a2 > 0
                d1 = d2 @ W2.T  # (B, 256)
                d1 *= a1 > 0
                W3 -= lr * (a2.T @ d3)
                b3 -= lr * d3.sum(axis=0, keepdims=True)
                W2 -= lr * (a1.T @ d2)
                b2 -= lr * d2.sum(axis=0, keepdims=True)
                W1 -= lr * (xb.T @ d1)
                b1 -= lr * d1.sum(axis=0, keepdims=True)
            losses[e] = total_loss / n
            accs[e] = correct / n
        return Result([W1, b1, W2, b2, W3, b3], losses, accs)

    return run


def prepare_matmul_floor(prob: Problem) -> Callable[[], Result]:
    """B3's matrix products alone, on the same shapes, as many times as training does them.

    Per batch: three forward products, three weight gradients and two input
    gradients (the first layer's is not needed), each into a preallocated
    output. Nothing else: no bias, no activation, no update, no allocation —
    the time the BLAS cannot go below.
    """
    w = prob.workload
    dt = np.dtype(w.dtype)
    rng = np.random.default_rng(1)
    W = prob.params[::2]  # (D_in, D_out) each
    batches = [min(w.batch_size, w.rows - s) for s in range(0, w.rows, w.batch_size)] * w.epochs
    bs = w.batch_size
    acts = [rng.standard_normal((bs, Wi.shape[0])).astype(dt) for Wi in W]  # layer inputs (B, D_in)
    deltas = [rng.standard_normal((bs, Wi.shape[1])).astype(dt) for Wi in W]  # gradients w.r.t. z (B, D_out)
    outs = [np.empty_like(d) for d in deltas]
    dWs = [np.empty_like(Wi) for Wi in W]
    dxs = [np.empty_like(a) for a in acts]

    def run() -> Result:
        for m in batches:
            for a, Wi, out in zip(acts, W, outs, strict=True):
                np.matmul(a[:m], Wi, out=out[:m])  # forward
            for k, (a, d, Wi) in enumerate(zip(acts, deltas, W, strict=True)):
                np.matmul(a[:m].T, d[:m], out=dWs[k])  # dW
                if k:
                    np.matmul(d[:m], Wi.T, out=dxs[k][:m])  # dx, not for the first layer
        return Result([], np.empty(0))

    return run
