"""The faster kernels the layers use where NumPy's plain expression is slow; each says what it saves.

Layers call these in place of one plain NumPy expression, named in each
docstring; the values are those of the plain expression up to the order of a
sum (which each docstring states). Nothing else in the package is a speed
trick: the layers, the loss and ``fit`` are written as the math.

**The runs-last layout** (``DESIGN.md``, core contract). A stacked ``Dense``
layer keeps its ``W`` ``(R, D_in, D_out)`` and ``b`` ``(R, 1, D_out)`` in memory
where the runs axis varies fastest (``stack_runs_last``): the arrays have the
shapes, names and values of the math and of every file, only their strides
differ. ``matmul`` sees that layout on the weights and computes ``x @ W`` over
it (``runs_last_matmul``), so the activations and gradients of a stacked
network come out runs-last too and every elementwise pass of a step (bias,
activation, loss, update) runs over contiguous runs. What it buys, for the
report's 1,000 stacked 2-8-1 XOR networks (B2), is that the product on the
shared input becomes one matrix product over all ``R x D_out`` columns and the
per-run products of the other layers one ``einsum`` pass each instead of
1,000 tiny BLAS calls and strided copies: ``fit`` 1.6x faster in float64 and
2.0x in float32 (300 epochs, CPU seconds, medians of 7 interleaved runs in one
process against the same networks stored runs-first, one core, 2026-12-05,
load average 13). The sums inside those products are not BLAS's, so a stacked
run equals the same network trained alone up to rounding (``reproduce``'s
tables: at most 1.2e-15 relative, every count the same).
"""

from __future__ import annotations

import functools

import numpy as np


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (``np.matmul``, broadcasting over a leading runs axis), optionally into ``out``.

    ``b`` in the runs-last layout of stacked weights goes to ``runs_last_matmul``.
    Otherwise, three cases where ``np.matmul`` is slow; the values are its own, bit for bit:

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
    # fast paths check): a mutant of a test changes the speed, never a value. One network's case first:
    # B1's step is mostly these calls.
    if a.ndim == 2 and b.ndim == 2 and (out is None or a.dtype == b.dtype == out.dtype):  # pragma: no mutate
        return a.dot(b, out=out)
    if runs_last(b):  # stacked weights or gradients in the runs-last layout (module docstring)
        return runs_last_matmul(a, b, out)
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
    numbers (``backproplab reproduce``) were computed with it: it stays. In the
    runs-last layout the batch is the slowest axis, and ``np.add.reduce`` over it
    adds whole rows of runs at a time.
    """
    if dout.ndim == 2:
        dout.sum(axis=-2, keepdims=True, out=out)
    elif runs_last(dout) and runs_last(out):  # pragma: no mutate (a choice of loop, as below)
        np.add.reduce(dout.transpose(1, 2, 0), axis=0, out=out.transpose(1, 2, 0)[0])  # (B, D, R) -> (D, R)
    else:  # pragma: no mutate (a choice of loop: both branches sum over the batch)
        np.einsum("rbd->rd", dout, out=out[:, 0, :])
    return out


def stack_runs_last(a: np.ndarray) -> np.ndarray:
    """``a`` (``(R, ...)``) copied into memory where the runs axis varies fastest: same shape, same values.

    The storage is the C-contiguous array ``moveaxis(a, 0, -1)`` (``(D_in, D_out, R)``
    for a weight matrix), and the result a view of it with the runs axis first
    again, so every name, shape and file sees ``(R, D_in, D_out)``.
    """
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)


def runs_last(a: np.ndarray) -> bool:
    """Whether ``a`` is a stacked array whose runs axis (its first) is the fastest in memory."""
    return a.ndim == 3 and a.shape[0] > 1 and a.strides[0] == a.itemsize


def runs_last_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for ``b`` in the runs-last layout ``(R, K, J)``; the result ``(R, I, J)`` is runs-last too.

    Written over the storage ``(..., R)``, where every run is a column:

    - ``a`` shared by every run, ``(I, K)``: the ``R`` products are one matrix
      product ``a @ B`` with ``B = (K, J * R)``, the runs side by side;
    - an inner size ``K = 1`` (``dx`` of a one-output layer): each entry is a
      single product, ``c[i, j, r] = a[i, 0, r] * b[0, j, r]``, one broadcast
      multiplication (a quarter faster than ``einsum`` on the report's networks);
    - ``a`` per run, ``(R, I, K)``, and a small product (``I * K * J <= 1024``, the
      report's networks): ``c[i, j, r] = sum_k a[i, k, r] * b[k, j, r]`` by ``einsum``,
      whose inner loop runs over contiguous runs, instead of ``R`` tiny BLAS calls;
    - larger per-run products: NumPy's per-run BLAS products on runs-first copies.

    The sums over ``k`` are not BLAS's, so they may differ from ``np.matmul`` in
    the last bit (``K = 1``: a single product, the same bits).
    """
    r, k, j = b.shape
    i = a.shape[-2]
    bs = b.transpose(1, 2, 0)  # (K, J, R)
    own = out is not None and out.transpose(1, 2, 0).flags.c_contiguous  # write straight into out's storage
    cs = out.transpose(1, 2, 0) if own else np.empty((i, j, r), dtype=np.result_type(a, b))  # (I, J, R)
    if a.ndim == 2:
        np.matmul(a, bs.reshape(k, j * r), out=cs.reshape(i, j * r))  # (I, K) @ (K, J*R): one product
    elif k == 1:  # pragma: no mutate (a choice of loop: both compute the product)
        np.multiply(a.transpose(1, 2, 0), bs, out=cs)  # (I, 1, R) * (1, J, R)
    elif i * k * j <= 1024:  # pragma: no mutate (a choice of loop: both compute the product)
        np.einsum("ikr,kjr->ijr", a.transpose(1, 2, 0), bs, out=cs)  # one pass over the runs per (i, k, j)
    else:
        cs[...] = np.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b)).transpose(1, 2, 0)
    if out is None:
        return cs.transpose(2, 0, 1)
    if not own:
        out[...] = cs.transpose(2, 0, 1)
    return out


class RowEntries:
    """One entry in each row of ``(..., B, K)`` arrays, at the columns ``index`` (``(..., B, 1)``): read and written.

    ``take(a)`` is ``np.take_along_axis(a, index, axis=-1)`` and ``put(a, value)`` is
    ``np.put_along_axis(a, index, value, axis=-1)``: the same entries, the same bits.
    Cross-entropy reads the logits at each row's arg max (the row maxima) and
    writes ``exp`` at the same places twice per batch. NumPy's two functions build
    a broadcast index for every axis in Python (4 and 25 us on B3's ``(128, 10)``
    logits); for C-contiguous arrays one flat index, computed once here, does
    each read or write in under a microsecond, and the maxima read this way
    replace ``z.max(axis=-1)``'s second pass over each short row (6.5 us). Other
    layouts (stacked runs-last logits) take NumPy's functions.
    """

    def __init__(self, index: np.ndarray, shape: tuple[int, ...]) -> None:
        self.index = index
        k = shape[-1]
        self.flat = np.arange(0, index.size * k, k) + index.reshape(-1)  # row start + column, in C order

    def take(self, a: np.ndarray) -> np.ndarray:
        """``a``'s entries at ``index``: ``(..., B, 1)``."""
        if a.flags.c_contiguous:  # pragma: no mutate (a choice of loop: both read the same entries)
            return a.reshape(-1)[self.flat].reshape(self.index.shape)  # reshape of C memory: a view
        return np.take_along_axis(a, self.index, axis=-1)

    def put(self, a: np.ndarray, value: float) -> None:
        """Write ``value`` into ``a`` at ``index``."""
        if a.flags.c_contiguous:  # pragma: no mutate (a choice of loop: both write the same entries)
            a.reshape(-1)[self.flat] = value
        else:
            np.put_along_axis(a, self.index, value, axis=-1)


def relu(x: np.ndarray) -> np.ndarray:
    """``np.maximum(x, 0)`` in a new array: the same bits, 3x faster on a layer's activations.

    NumPy 2.4 runs ``maximum``'s vector loop only when both operands are arrays of
    one layout; against the scalar 0 it takes its element-by-element loop. Against
    an array of zeros laid out like ``x`` (``_zeros``) the same maxima (NaN
    kept, ``-0.0`` to ``+0.0`` alike) take, on B3's float32 activations, 5.3 us
    against 17.7 us for ``(128, 256)`` and 3.0 against 9.2 us for ``(128, 128)``
    (one core, ``timeit`` minima, 2026-12-05, load 1-2).
    """
    if not isinstance(x, np.ndarray) or x.size > 2**20:  # pragma: no mutate (both compute the same maxima)
        return np.maximum(x, 0)  # a large array gets no zeros kept alive: megabytes for little gain
    return np.maximum(x, _zeros(x.shape, x.strides, x.dtype))


@functools.lru_cache(maxsize=8)
def _zeros(shape: tuple[int, ...], strides: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Read-only zeros of ``shape`` laid out as ``strides`` order the axes (what ``zeros_like`` gives such an array).

    A layer sees the same few layouts at every step (the batch, the last short
    batch, a validation set), so eight are kept (``lru_cache``: safe across threads).
    """
    order = sorted(range(len(shape)), key=lambda i: -strides[i])  # the axes from slowest to fastest in memory
    zeros = np.zeros([shape[i] for i in order], dtype).transpose(np.argsort(order))
    zeros.flags.writeable = False
    return zeros
