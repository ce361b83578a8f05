"""scikit-learn's L-BFGS objective for the estimators: its parameter order, its arithmetic, sparse ``X`` kept sparse.

``solver="lbfgs"`` hands SciPy one function of a flat parameter vector, as
scikit-learn's ``_fit_lbfgs`` hands it ``_loss_grad_lbfgs``. Three things make it
scikit-learn's, so that from the same start both take the same steps:

- the order of the vector: every coefficient matrix, then every intercept
  (``_pack``), and its dtype: a float32 network gives SciPy a float32 start, and
  SciPy (1.17) then calls the objective with the parameters rounded to float32
  each time, so the passes run in float32, as scikit-learn's do;
- the grouping of the gradient: ``(a.T @ delta + alpha * W) / sw_sum`` with the
  undivided output delta (``_SklearnLoss.value_and_delta``), the network's own
  backward pass computing ``a.T @ delta`` (it is linear in ``delta``);
- sparse ``X``: scikit-learn multiplies the first layer by the SciPy matrix
  (``safe_sparse_dot``); so does this objective, when ``X`` is sparse enough to
  gain (``SPARSE_DENSITY``), computing ``X @ W`` and ``X.T @ delta`` itself and
  leaving the other layers to the network. The core stays NumPy only: the one
  sparse product lives here, at the estimator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..core.layers import Dense
from ..core.network import Network

#: Below this fraction of non-zero entries the first layer's two products are SciPy's sparse ones. Measured
#: 2026-12-05 (one core, one BLAS thread, load 1.6-2.5): 15 lbfgs fits on ``benchmarks/eval_sklearn.py``'s
#: ``sparse_synthetic`` (1,000 x 300, 20 % non-zero) took 2.03 CPU seconds with the sparse products, 2.27
#: expanded, scikit-learn 2.18 (medians of 4); the two products alone cross over near 20-25 % (1,000 x 300
#: times 100 units), and at digits' 51 % (64 features) the dense ones are twice as fast. Denser input is
#: expanded once, as the stochastic solvers expand it.
SPARSE_DENSITY = 0.25


def sklearn_order(net: Network) -> list[np.ndarray]:
    """The network's parameters in scikit-learn's packing order: every ``Dense`` weight, every bias, then the rest.

    The arrays are the network's own; "the rest" is batch norm's scale and shift,
    which scikit-learn's MLP does not have.
    """
    params = net.params
    weights = [p for name, p in params.items() if name.endswith(".W")]
    biases = [p for name, p in params.items() if name.endswith(".b")]
    return [*weights, *biases, *(p for name, p in params.items() if not name.endswith((".W", ".b")))]


def pack(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays flattened into one new vector, in their order and (common) dtype."""
    return np.concatenate([a.ravel() for a in arrays])


def unpack(arrays: list[np.ndarray], x: np.ndarray) -> None:
    """Write the consecutive pieces of ``x`` into ``arrays`` (cast to their dtype), in place."""
    at = 0
    for a in arrays:
        a[...] = x[at : at + a.size].reshape(a.shape)
        at += a.size


def keeps_sparse(net: Network, X: Any) -> bool:
    """Whether ``FullBatch`` multiplies ``X`` as a SciPy matrix: sparse, sparse enough, into a ``Dense`` layer."""
    rows, columns = X.shape
    return sp.issparse(X) and isinstance(net.layers[0], Dense) and X.nnz <= SPARSE_DENSITY * rows * columns


class FullBatch:
    """``fun(x) -> (loss, gradient)``: scikit-learn's ``_loss_grad_lbfgs`` on ``net`` (module docstring).

    Parameters
    ----------
    net : Network
        One network, without dropout; its parameters are set to ``x`` at every call.
    X : ndarray or SciPy sparse matrix, ``(B, D_in)``
        In the network's dtype. Sparse input is multiplied as it is if ``keeps_sparse``,
        otherwise expanded once.
    Y : ndarray, ``(B, K)``
        Targets as the loss takes them.
    loss : _SklearnLoss
        scikit-learn's loss with its ``alpha`` (``_rules.LOSSES``).
    sw : ndarray, ``(B,)``, optional
        Sample weights.
    """

    def __init__(self, net: Network, X: Any, Y: np.ndarray, loss: Any, sw: np.ndarray | None = None) -> None:
        self.net, self.Y, self.loss, self.sw = net, Y, loss, sw
        self.sparse = keeps_sparse(net, X)
        self.X = X if self.sparse or not sp.issparse(X) else X.toarray()  # (B, D_in)
        self.params = sklearn_order(net)
        names = [name for name in net.params if name.endswith(".W")]
        grads = net.grads
        order = [*names, *(name[:-1] + "b" for name in names)]
        self.grads = [grads[name] for name in order] + [g for name, g in grads.items() if name not in order]
        self.weights = list(zip(self.params[: len(names)], self.grads[: len(names)], strict=True))  # (W, dW)

    def __call__(self, x: np.ndarray) -> tuple[Any, np.ndarray]:
        unpack(self.params, x)
        value, delta, total = self.loss.value_and_delta(self._forward(), self.Y, self.sw)
        self._backward(delta)  # every grads array now holds a.T @ delta (or its sum over rows)
        for W, dW in self.weights:  # in place, in the weights' dtype, as scikit-learn's coef_grads
            dW += self.loss.alpha * W
            dW /= total
        # new arrays, as scikit-learn's intercept_grads: float32 ones divided by a float64 sw_sum become float64
        rest = [g / total for g in self.grads[len(self.weights) :]]
        return value, pack([dW for _, dW in self.weights] + rest)  # new: SciPy keeps it

    def _forward(self) -> np.ndarray:
        if not self.sparse:
            return self.net.forward(self.X, train=True)
        first, *rest = self.net.layers
        z = self.X @ first.params["W"]  # SciPy's sparse product: (B, D_in) @ (D_in, D_out) -> (B, D_out)
        z += first.params["b"]
        for layer in rest:
            z = layer.forward(z, train=True)
        return z

    def _backward(self, delta: np.ndarray) -> None:
        if not self.sparse:
            self.net.backward(delta, input_grad=False)
            return
        first, *rest = self.net.layers
        for layer in reversed(rest):
            delta = layer.backward(delta)
        first.grads["W"][...] = self.X.T @ delta  # SciPy's sparse product: (D_in, B) @ (B, D_out)
        delta.sum(axis=0, keepdims=True, out=first.grads["b"])  # (1, D_out)
