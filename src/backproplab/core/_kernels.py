"""The faster kernels the layers use where NumPy's plain expression is slow; each says what it saves.

Layers call these in place of one plain NumPy expression, named in each
docstring; the values are those of the plain expression up to the order of a
sum (which each docstring states). Nothing else in the package is a speed
trick: the layers, the loss and ``fit`` are written as the math.
"""

from __future__ import annotations

import numpy as np


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (``np.matmul``, broadcasting over a leading runs axis), optionally into ``out``.

    Three cases where ``np.matmul`` is slow; the values are its own, bit for bit:

    - two 2-D operands (one network): ``ndarray.dot`` runs the same BLAS product
      at a quarter of matmul's per-call cost, which for the report's 2-8-1
      network is most of a step (B1);
    - an inner size of 1 (``dx`` of a one-output layer with a runs axis): each
      entry is a single product, which ``einsum``'s loop computes 1.3-3x faster
      than matmul's per-run BLAS calls (B2);
    - a transposed 2-D operand broadcast against a 3-D one (``dW`` of the first
      layer of stacked runs on a shared input): matmul runs a transposed view
      several times slower than a contiguous copy in float32 (B2 float32).

    Measured 2026-12-01 (``fit`` on the ``benchmarks/`` workloads, CPU seconds,
    one BLAS thread, a machine at load 15-20, medians): B1 0.070 s with the
    first case against 0.076-0.080 s with plain matmul; B2 float32 0.78-0.81 s
    with the other two against 0.98-1.06 s without; B2 float64 moved within
    the noise (1.08-1.17 against 1.10-1.12 s).
    """
    # Each test below only picks a way to compute the same product (bit for bit, as the tests of the
    # fast paths check): a mutant of a test changes the speed, never a value.
    if a.ndim == 2 and b.ndim == 2 and (out is None or a.dtype == b.dtype == out.dtype):  # pragma: no mutate
        return a.dot(b, out=out)
    if a.ndim == 3 and b.ndim == 3 and a.shape[-1] == 1:  # pragma: no mutate
        return np.einsum("rbk,rkd->rbd", a, b, out=out)  # (R, B, 1) @ (R, 1, D): one product per entry
    if a.ndim == 2 and b.ndim == 3 and not a.flags.c_contiguous:  # pragma: no mutate
        a = np.ascontiguousarray(a)
    return np.matmul(a, b, out=out)


def sum_over_batch(dout: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``dout.sum(-2, keepdims=True)`` written into ``out``: ``(R, B, D) -> (R, 1, D)``, ``(B, D) -> (1, D)``.

    With a runs axis, NumPy's reduction over the middle axis of ``(R, B, D)``
    runs one short inner loop per run; ``einsum`` sums the same numbers 4-6x
    faster for ``R`` in the thousands (``db`` of the report's 1,000 stacked XOR
    networks, ``(1000, 4, 1)``: 42 against 182 us per call; ``(1000, 4, 8)``:
    214 against 1217 us; measured 2026-12-01 at load 11). Its order of
    summation for ``D = 1`` is not NumPy's sequential one, and the report's
    numbers (``backproplab reproduce``) were computed with it: it stays.
    """
    if dout.ndim == 3:  # pragma: no mutate (a choice of loop: both branches sum over the batch)
        np.einsum("rbd->rd", dout, out=out[:, 0, :])
    else:
        dout.sum(axis=-2, keepdims=True, out=out)
    return out
