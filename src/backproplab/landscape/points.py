"""Many parameter points of one network, evaluated at once on the runs axis.

A landscape is the loss at many points of parameter space: a 51 x 51 plane is
2601 points, a Hessian of ``P`` parameters is ``2P`` gradients. Each point is a
flat vector ``theta`` ``(P,)`` — every parameter array of ``net.params`` (one
run's shape) flattened in C order, one after the other, in the order of
``net.params`` — and a batch of points is one network with a runs axis of that
many runs (DESIGN.md's core contract), built from the network's architecture
and filled through ``load_state_dict``. One forward pass (and one backward pass
when gradients are asked for) then gives every point's loss: no Python loop
over points, and the network the user passed is never written.

Points are evaluated in evaluation mode (``train=False``): dropout is the
identity and batch norm uses its running statistics (the point's run's), so the
loss is a function of the parameters alone, as a landscape must be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.losses import Loss
from ..core.network import Network, check_data

#: Bytes of working memory one evaluation chunk may take (parameters, gradients and activations of its points).
CHUNK_BYTES = 64 * 2**20


def n_params(net: Network) -> int:
    """``P``: scalar parameters of one run (the length of a flat point)."""
    return net.n_params


def run_shapes(net: Network) -> dict[str, tuple[int, ...]]:
    """Each parameter's shape for one run (without the runs axis)."""
    return {name: p.shape[1:] if net.runs else p.shape for name, p in net.params.items()}


def flatten(net: Network, params: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The flat point(s) of ``params`` (default: the network's own): ``(P,)``, or ``(R, P)`` with a runs axis.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.landscape import flatten
    >>> net = bp.mlp([2, 2, 1], seed=0)  # 2*2 + 2 + 2*1 + 1 parameters
    >>> flatten(net).shape, flatten(bp.mlp([2, 2, 1], runs=3)).shape
    ((9,), (3, 9))
    """
    params = net.params if params is None else params
    if net.runs:
        return np.concatenate([params[name].reshape(net.runs, -1) for name in run_shapes(net)], axis=1)
    return np.concatenate([params[name].ravel() for name in run_shapes(net)])


def unflatten(net: Network, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Parameter arrays from flat points ``(..., P)``: each ``(..., *shape)`` (views of ``theta`` where possible).

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.landscape import flatten, unflatten
    >>> net = bp.mlp([2, 2, 1], seed=0)
    >>> parts = unflatten(net, flatten(net))
    >>> {name: a.shape for name, a in parts.items()}
    {'0.W': (2, 2), '0.b': (1, 2), '2.W': (2, 1), '2.b': (1, 1)}
    >>> bool(np.array_equal(parts["0.W"], net.params["0.W"]))
    True
    """
    out, start = {}, 0
    for name, shape in run_shapes(net).items():
        size = int(np.prod(shape))
        out[name] = theta[..., start : start + size].reshape(*theta.shape[:-1], *shape)
        start += size
    return out


def as_direction(net: Network, d: Any, name: str = "d") -> np.ndarray:
    """A direction given flat (``(P,)``, or ``(R, P)`` for a network with runs) or shaped like ``net.params``.

    Returns it flat, float64, with a leading runs axis when the network has one
    (a ``(P,)`` direction is shared by every run). Raises ``ValueError`` naming
    ``name`` and the shape expected when it does not fit.
    """
    P, R = n_params(net), net.runs
    if isinstance(d, dict):
        shapes = run_shapes(net)
        if d.keys() != shapes.keys():
            raise ValueError(f"{name} must name the parameters {list(shapes)}, got {list(d)}")
        per_run = {k: np.asarray(v, dtype=np.float64) for k, v in d.items()}
        if all(per_run[k].shape == s for k, s in shapes.items()):
            flat = np.concatenate([per_run[k].ravel() for k in shapes])
        elif R and all(per_run[k].shape == (R, *s) for k, s in shapes.items()):
            flat = np.concatenate([per_run[k].reshape(R, -1) for k in shapes], axis=1)
        else:
            wrong = next(k for k, s in shapes.items() if per_run[k].shape not in (s, (R, *s)))
            raise ValueError(f"{name}[{wrong!r}] has shape {per_run[wrong].shape}, expected {shapes[wrong]}"
                             + (f" or {(R, *shapes[wrong])}" if R else ""))
    else:
        flat = np.asarray(d, dtype=np.float64)
        if flat.shape != (P,) and flat.shape != ((R, P) if R else (P,)):
            raise ValueError(f"{name} has shape {flat.shape}; expected ({P},), a flat direction over the network's "
                             f"{P} parameters" + (f", or ({R}, {P}), one per run" if R else "")
                             + ", or a dict shaped like net.params")
    if not np.isfinite(flat).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return np.broadcast_to(flat, (R, P)).copy() if R else flat


@dataclass
class Values:
    """What ``evaluate`` measured at ``N`` points: loss ``(N,)``, accuracy ``(N,)`` (NaN for regression), grads."""

    loss: np.ndarray
    accuracy: np.ndarray
    grads: np.ndarray | None  # (N, P) or None


def chunk_size(net: Network, n_rows: int, *, grads: bool, budget: int = CHUNK_BYTES) -> int:
    """Points per pass so that one pass's parameters, gradients and activations stay within ``budget`` bytes."""
    widths = sum(layer.params["W"].shape[-1] for layer in net.layers if "W" in layer.params)
    per_point = 8 * ((2 + grads) * n_params(net) + 4 * n_rows * (widths + net.n_inputs))
    return max(1, budget // per_point)


def evaluate(
    net: Network,
    X: Any,
    y: Any,
    thetas: np.ndarray,
    loss: str | Loss | None = None,
    *,
    run: np.ndarray | None = None,
    grads: bool = False,
    budget: int = CHUNK_BYTES,
) -> Values:
    """The loss (and accuracy, and gradient) at each flat point of ``thetas`` ``(N, P)``.

    Parameters
    ----------
    net : Network
        Gives the architecture, the loss pairing and (for batch norm) the buffers; never written.
    X, y : array-like
        The data, as for ``loss_and_gradients``: ``(B, D_in)`` shared, or ``(R, B, D_in)`` per run of ``net``.
    thetas : ndarray, ``(N, P)``
    run : ndarray of int, ``(N,)``, optional
        The run of ``net`` each point belongs to (its data and buffers); default run 0.
    grads : bool
        Also return the gradient ``(N, P)`` at each point.
    budget : int
        Bytes one pass may use; the points are evaluated in chunks of that size.
    """
    X, Y, loss_fn = check_data(net, X, y, loss)
    N = len(thetas)
    run = np.zeros(N, dtype=np.intp) if run is None else np.asarray(run, dtype=np.intp)
    buffers = net.buffers
    k = min(N, chunk_size(net, X.shape[-2], grads=grads, budget=budget))
    work = Network.from_config({**net.to_config(), "runs": k})
    out = Values(np.empty(N), np.full(N, np.nan), np.empty((N, thetas.shape[1])) if grads else None)
    for lo, hi in _chunks(N, k):
        # The last chunk is padded with its own last point, so one network of k runs serves every chunk.
        idx = np.minimum(np.arange(lo, lo + k), hi - 1)
        state = unflatten(net, thetas[idx])
        state.update({n: b[run[idx]] if net.runs else np.broadcast_to(b, (k, *b.shape)) for n, b in buffers.items()})
        work.load_state_dict(state)
        Xk = X[run[idx]] if X.ndim == 3 else X  # (k, B, D_in) per run, or (B, D_in) shared
        Yk = Y[run[idx]] if Y.ndim == 3 else Y
        z = work.forward(Xk, train=False)  # (k, B, K)
        n = hi - lo
        out.loss[lo:hi] = loss_fn.value(z, Yk)[:n]
        if loss_fn.classifier:
            out.accuracy[lo:hi] = loss_fn.correct(z, Yk)[:n] / Xk.shape[-2]
        if grads:
            work.backward(loss_fn.gradient(z, Yk), input_grad=False)
            out.grads[lo:hi] = flatten(work, work.grads)[:n]  # type: ignore[index]
    return out


def _chunks(n: int, k: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, k):
        yield lo, min(lo + k, n)
