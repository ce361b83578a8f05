"""Full-batch training with L-BFGS: SciPy's ``minimize(method="L-BFGS-B")`` on a network's parameters.

Mini-batch gradient descent (``fit``) takes many cheap, noisy steps; on a small
data set a quasi-Newton method that sees all of it at once usually gets further
in fewer passes, which is why scikit-learn's ``MLPClassifier`` offers
``solver="lbfgs"`` (Liu & Nocedal 1989; Byrd, Lu, Nocedal & Zhu 1995 for the
bounded variant SciPy implements). This module hands SciPy one function of a flat
parameter vector that returns the loss and its gradient, computed by the
network's own forward and backward passes, exactly as scikit-learn does::

    result = minimize_lbfgs(net, X, y, l2=1e-4 / len(X), max_iter=200)

The objective must be deterministic: dropout's random masks would change it
between evaluations, so networks with dropout are refused. Batch norm normalises
with the statistics of the whole data set, the one batch.

SciPy is imported when the function is called; it comes with the ``sklearn``
extra (``pip install 'backproplab[sklearn]'``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_bool, check_positive_float, check_positive_int
from ..core.losses import Loss
from ..core.network import Network, check_data
from ..core.regularization import Dropout


@dataclass
class LbfgsResult:
    """What ``minimize_lbfgs`` did; the network already holds the final parameters.

    Attributes
    ----------
    loss : float
        The objective (loss plus the L2 term) at the final parameters.
    n_iter : int
        L-BFGS iterations taken.
    n_fun : int
        Evaluations of the loss and gradient (each a forward and a backward pass).
    converged : bool
        Whether SciPy reports convergence (``False``: ``max_iter`` or ``max_fun`` ran
        out, or the line search failed; ``message`` says which).
    message : str
        SciPy's reason for stopping.
    """

    loss: float
    n_iter: int
    n_fun: int
    converged: bool
    message: str


def _scipy_minimize() -> Any:
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError("L-BFGS needs SciPy: pip install 'backproplab[sklearn]'") from None
    return minimize


def minimize_lbfgs(
    net: Network,
    X: Any,
    y: Any,
    loss: str | Loss | None = None,
    *,
    l2: float = 0.0,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    verbose: bool = False,
) -> LbfgsResult:
    """Minimise ``loss(net(X), y) + l2 / 2 * sum(||W||**2)`` over ``net``'s parameters, in place.

    Parameters
    ----------
    net : Network
        One network (no runs axis), without dropout.
    X : array-like, ``(B, D_in)``
    y : array-like
        Targets, as for ``fit``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    l2 : float, default 0
        Penalty on the ``Dense`` weights (not the biases), gradient ``l2 * W``:
        scikit-learn's ``alpha`` is ``l2 = alpha / B``.
    max_iter : int, default 200
        L-BFGS iterations at most (SciPy's ``maxiter``).
    max_fun : int, default 15000
        Loss-and-gradient evaluations at most (SciPy's ``maxfun``).
    tol : float, default 1e-4
        Stop when every entry of the projected gradient is below ``tol`` (SciPy's ``gtol``).
    verbose : bool, default False
        Print the objective after every iteration.

    Returns
    -------
    LbfgsResult
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a backproplab Network, got {type(net).__name__}")
    if net.runs is not None:
        raise ValueError(f"L-BFGS trains one network at a time; this one has a runs axis (runs={net.runs})")
    if any(isinstance(layer, Dropout) for layer in net.layers):
        raise ValueError("L-BFGS needs a deterministic loss, and dropout draws new masks at every evaluation: "
                         "build the network without dropout, or train it with a stochastic optimizer (fit)")
    X, Y, loss_fn = check_data(net, X, y, loss)
    l2 = check_positive_float("l2", l2, allow_zero=True)
    max_iter, max_fun = check_positive_int("max_iter", max_iter), check_positive_int("max_fun", max_fun)
    tol = check_positive_float("tol", tol, allow_zero=True)
    verbose = check_bool("verbose", verbose)
    _scipy_minimize()  # SciPy missing: say so before any work

    params, grads = net.params, net.grads
    weights = [name for name in params if name.endswith(".W")]  # Dense weights; biases, batch norm's scales free

    def put(x: np.ndarray) -> None:
        at = 0
        for p in params.values():
            p[...] = x[at : at + p.size].reshape(p.shape)
            at += p.size

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        put(x)
        z = net.forward(X, train=True)
        value, dz = loss_fn.value_and_gradient(z, Y)
        net.backward(dz, input_grad=False)
        value = float(value)
        for name in weights if l2 else ():
            W = params[name]
            value += 0.5 * l2 * float(np.dot(W.ravel(), W.ravel()))
            grads[name] += l2 * W  # in place: the next backward overwrites it
        return value, np.concatenate([g.ravel() for g in grads.values()]).astype(np.float64)  # new: SciPy keeps it

    x, result = run_lbfgs(objective, np.concatenate([p.ravel() for p in params.values()]).astype(np.float64),
                          max_iter=max_iter, max_fun=max_fun, tol=tol, verbose=verbose)
    put(x)
    return result


def run_lbfgs(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray, *, max_iter: int,
              max_fun: int, tol: float, verbose: bool) -> tuple[np.ndarray, LbfgsResult]:
    """SciPy's L-BFGS-B on ``fun(x) -> (value, gradient)`` from ``x0``; the final ``x`` (float64) and the result.

    The one SciPy call of ``minimize_lbfgs`` and of the estimators' ``solver="lbfgs"``
    (which hands it scikit-learn's objective and parameter order). SciPy calls ``fun``
    with ``x`` in ``x0``'s dtype (SciPy 1.17 casts its float64 iterate to a float32
    ``x0``'s dtype before every call) and returns its own float64 iterate.
    """
    iterations = 0

    def report(intermediate_result: Any) -> None:  # SciPy passes the state to a parameter of this name
        nonlocal iterations
        iterations += 1
        print(f"Iteration {iterations}, loss = {intermediate_result.fun:.8f}")

    minimize = _scipy_minimize()
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging objective is SciPy's to reject
        res = minimize(fun, x0, method="L-BFGS-B", jac=True, callback=report if verbose else None,
                       options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol})
    loss_value = float(res.fun)
    return res.x, LbfgsResult(loss=loss_value, n_iter=int(res.nit), n_fun=int(res.nfev),
                              converged=bool(res.success) and math.isfinite(loss_value), message=str(res.message))
