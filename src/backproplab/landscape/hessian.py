"""The exact Hessian of the mean loss, and what its eigenvalues say.

``hessian`` differentiates backpropagation's gradient once more by central
differences: column ``i`` is ``(g(theta + h e_i) - g(theta - h e_i)) / 2h``,
and the matrix is symmetrised, ``(H + H^T) / 2``. With ``h = 1e-5`` the
truncation error ``h^2 g'''/6`` is about 1e-10 and the rounding error
``eps * |g| / h`` about 1e-11, so entries are right to about 1e-9 — "exact" for
every purpose here (an autodiff oracle agrees to 1e-6 in the tests). All ``2P``
perturbed points go through the network at once on the runs axis
(``points.evaluate``), in chunks of bounded memory.

The Hessian is ``P x P`` float64 per run: 8 P^2 bytes. That is estimated first
and refused, naming the size, when it exceeds the memory the process can use
(a 100,000-parameter network needs 80 GB).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .._checks import check_positive_float
from ..core.losses import Loss
from ..core.network import Network, check_data
from ..experiments.build import available_memory
from .points import CHUNK_BYTES, chunk_size, evaluate, flatten, n_params

#: Finite-difference step of the gradient (see the module docstring for why 1e-5).
STEP = 1e-5


def hessian_bytes(net: Network) -> int:
    """Bytes the Hessian of ``net`` takes: ``R x P x P`` float64, plus one column block of work (a lower bound)."""
    P = n_params(net)
    return 8 * (net.runs or 1) * P * P


def _readable(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def check_memory(what: str, need: int, max_bytes: int | None = None) -> int:
    """Refuse (``ValueError``, naming ``what`` and both sizes) ``need`` bytes above ``max_bytes``.

    ``max_bytes`` defaults to the memory the process may use now; returns ``need``.
    """
    limit = available_memory() if max_bytes is None else max_bytes
    if limit is not None and need > limit:
        raise ValueError(f"{what} needs {_readable(need)} but only {_readable(limit)} may be used"
                         + ("; pass max_bytes to allow more" if max_bytes is not None else ""))
    return need


def check_hessian_memory(net: Network, max_bytes: int | None = None) -> int:
    """Refuse (``ValueError``) a Hessian larger than ``max_bytes`` (default: the memory available now).

    Returns the bytes needed. Nothing is computed before this check.
    """
    P, R = n_params(net), net.runs
    runs = f"{R} runs x " if R else ""
    return check_memory(f"the Hessian of a network with {P:,} parameters ({runs}{P:,} x {P:,} float64)",
                        hessian_bytes(net), max_bytes)


def hessian(
    net: Network, X: Any, y: Any, loss: str | Loss | None = None, *, step: float = STEP,
    max_bytes: int | None = None,
) -> np.ndarray:
    """The Hessian of the mean loss on ``(X, y)`` w.r.t. the parameters, in the order of ``flatten(net)``.

    Parameters
    ----------
    net : Network
        Left unchanged. With a runs axis, each run's Hessian.
    X : array-like, ``(B, D_in)`` or ``(R, B, D_in)``
    y : array-like
        Targets as for ``loss_and_gradients``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    step : float, default 1e-5
        Central-difference step ``h`` of the gradient.
    max_bytes : int, optional
        Refuse a Hessian needing more memory than this (default: the memory available now).

    Returns
    -------
    ndarray, ``(P, P)``, or ``(R, P, P)`` with a runs axis; symmetric, float64.

    Raises
    ------
    ValueError
        Before any work, if the Hessian would not fit in ``max_bytes`` or the network is not float64.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> from backproplab.landscape import hessian, spectrum
    >>> X, y = logic_table("xor")
    >>> net = bp.mlp([2, 2, 1], seed=0)
    >>> H = hessian(net, X, y)
    >>> H.shape, bool(np.allclose(H, H.T))
    ((9, 9), True)
    >>> s = spectrum(H)
    >>> bool(s.min <= s.max), int(s.n_negative) + int(s.n_zero) + int(s.n_positive)
    (True, 9)
    """
    step = check_positive_float("step", step)
    if net.dtype != np.float64:  # a 1e-5 step is lost in float32's 7 digits
        raise ValueError(f"hessian needs a float64 network (central differences of the gradient), this one is "
                         f"{net.dtype.name}")
    check_data(net, X, y, loss)  # bad data is refused before the memory estimate's message could mislead
    check_hessian_memory(net, max_bytes)
    theta = flatten(net).reshape(net.runs or 1, -1)  # (R, P)
    R, P = theta.shape
    n_rows = np.shape(X)[-2]
    # Columns per block: a whole number of evaluation chunks (2 points a column), the block's points and
    # gradients (2 x 2 x cols x P float64) within one chunk budget, so no P x P temporary is ever made.
    half = max(1, chunk_size(net, n_rows, grads=True) // 2)
    cols = max(half, CHUNK_BYTES // (32 * P) // half * half)
    H = np.empty((R, P, P))
    for r in range(R):
        for lo in range(0, P, cols):
            hi = min(lo + cols, P)
            i = np.arange(lo, hi)
            points = np.repeat(theta[r][None], 2 * (hi - lo), axis=0)  # (2n, P): +h e_i, then -h e_i
            points[np.arange(hi - lo), i] += step
            points[np.arange(hi - lo, 2 * (hi - lo)), i] -= step
            g = evaluate(net, X, y, points, loss, run=np.full(len(points), r), grads=True).grads
            H[r, lo:hi] = (g[: hi - lo] - g[hi - lo :]) / (2 * step)  # type: ignore[index]  # row i: d g / d theta_i
    for r in range(R):
        _symmetrise(H[r], cols)
    return H if net.runs else H[0]


def _symmetrise(H: np.ndarray, block: int) -> None:
    """``H <- (H + H^T) / 2`` in place, a block of rows at a time (no second P x P array).

    Block ``k``'s rows and columns become the symmetric part; entries shared with an
    earlier block already hold it (and it is symmetric), those with later blocks are
    still the originals, so each block reads exactly what it needs.
    """
    for lo in range(0, len(H), block):
        hi = min(lo + block, len(H))
        mean = (H[lo:hi, :] + H[:, lo:hi].T) / 2  # (block, P)
        H[lo:hi, :] = mean
        H[:, lo:hi] = mean.T


@dataclass
class Spectrum:
    """The eigenvalues of a Hessian and what they say; with a runs axis every field has it.

    Attributes
    ----------
    eigenvalues : ndarray, ``(P,)`` or ``(R, P)``, ascending
    min, max : float or ndarray ``(R,)``
        The extreme eigenvalues.
    n_negative, n_zero, n_positive : int or ndarray ``(R,)``
        Eigenvalues below ``-tol``, within ``tol`` of zero, above ``tol``.
    condition : float or ndarray ``(R,)``
        ``max |lambda| / min |lambda|`` (infinite when an eigenvalue is exactly 0).
    tol : float or ndarray ``(R,)``
        ``max(atol, rtol * max |lambda|)``: eigenvalues this small are zero within the Hessian's accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab.landscape import spectrum
    >>> s = spectrum(np.diag([-1.0, 0.0, 2.0, 4.0]))  # a saddle: one direction of descent
    >>> float(s.min), float(s.max), int(s.n_negative), int(s.n_zero), int(s.n_positive)
    (-1.0, 4.0, 1, 1, 2)
    """

    eigenvalues: np.ndarray
    min: Any
    max: Any
    n_negative: Any
    n_zero: Any
    n_positive: Any
    condition: Any
    tol: Any

    def run(self, r: int) -> Spectrum:
        """Run ``r``'s spectrum, from one computed on the runs axis."""
        return Spectrum(*(np.asarray(getattr(self, f.name))[r] for f in fields(self)))


def spectrum(H: np.ndarray, *, atol: float = 1e-8, rtol: float = 1e-8) -> Spectrum:
    """Eigenvalues of a symmetric ``H`` ``(P, P)`` or ``(R, P, P)`` (``numpy.linalg.eigvalsh``) and their summary.

    ``atol`` defaults to 1e-8, ten times the finite-difference Hessian's error, so that
    a zero eigenvalue is not counted as negative for its rounding noise.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab.landscape import spectrum
    >>> runs = np.stack([np.diag([1.0, 3.0]), np.diag([-2.0, 5.0])])  # two runs' Hessians
    >>> s = spectrum(runs)
    >>> s.min, s.n_negative, s.condition
    (array([ 1., -2.]), array([0, 1]), array([3. , 2.5]))
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim not in (2, 3) or H.shape[-1] != H.shape[-2]:
        raise ValueError(f"H must be square, (P, P) or (R, P, P), got shape {H.shape}")
    lam = np.linalg.eigvalsh(H)  # ascending
    big = np.abs(lam).max(axis=-1)
    tol = np.maximum(atol, rtol * big)
    small = np.abs(lam).min(axis=-1)
    with np.errstate(divide="ignore"):
        condition = np.where(small > 0, big / np.where(small > 0, small, 1), np.inf)
    neg = np.sum(lam < -tol[..., None], axis=-1)
    pos = np.sum(lam > tol[..., None], axis=-1)

    def scalar(a: np.ndarray) -> Any:
        return a[()] if np.ndim(a) == 0 else a

    return Spectrum(lam, scalar(lam[..., 0]), scalar(lam[..., -1]), scalar(neg), scalar(lam.shape[-1] - neg - pos),
                    scalar(pos), scalar(condition), scalar(tol))
