"""Numerical gradient checking: compare backpropagation with central differences.

For each checked parameter entry ``p`` the numerical derivative is::

    n = (L(p + eps) - L(p - eps)) / (2 eps)

and it is compared with the analytic ``a`` from ``loss_and_gradients`` by the
relative error ``|a - n| / max(|a| + |n|, tiny)``, where ``|.|`` is the L2 norm
over the checked entries of one parameter array (Ng's form of CS231n's
``rel_error``), so that one entry whose true gradient is nearly zero cannot
dominate the verdict.

The perturbed losses are evaluated in extended precision (``np.longdouble``)
by default. A central difference carries a rounding error of about
``machine_eps * |L| / eps``: with ``eps = 1e-7`` (the report's value) that is
1e-9 in float64, as large as the true gradients of the first layers of a deep
sigmoid network, whose relative errors would then read 1e-7 although nothing
is wrong. In 80-bit precision the floor drops by three orders and a correct
gradient shows errors around 1e-10 or below; a wrong one, 1e-3 or above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._checks import check_positive_float, check_positive_int
from .losses import Loss
from .network import Network, check_data, loss_and_gradients


@dataclass(frozen=True)
class GradcheckResult:
    """Outcome of ``gradcheck``.

    Attributes
    ----------
    errors : dict of str to float
        Relative error of each parameter array (norms over its checked
        entries), in the network's order.
    checked : dict of str to int
        Number of entries checked per parameter.
    threshold : float
        ``passed`` is ``max_error < threshold``.
    eps : float
        The finite-difference step used.
    """

    errors: dict[str, float]
    checked: dict[str, int]
    threshold: float
    eps: float
    #: Index of the entry with the largest absolute disagreement, per parameter.
    worst_index: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        """Largest relative error over all checked entries."""
        return max(self.errors.values(), default=0.0)

    @property
    def passed(self) -> bool:
        """Whether every checked entry agrees to within ``threshold``."""
        return self.max_error < self.threshold

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON output."""
        return {
            "passed": self.passed,
            "max_error": self.max_error,
            "threshold": self.threshold,
            "eps": self.eps,
            "parameters": {
                name: {"max_error": err, "checked": self.checked[name]} for name, err in self.errors.items()
            },
        }

    def __repr__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [f"GradcheckResult({verdict}: max relative error {self.max_error:.2e} < {self.threshold:.0e}"
                 if self.passed else
                 f"GradcheckResult({verdict}: max relative error {self.max_error:.2e} >= {self.threshold:.0e}"]
        width = max((len(n) for n in self.errors), default=4)
        for name, err in self.errors.items():
            n = self.checked[name]
            lines.append(f"  {name:<{width}}  {err:.2e}  ({n} {'entry' if n == 1 else 'entries'})")
        return "\n".join(lines) + ")"


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    loss: str | Loss | None = None,
    eps: float = 1e-7,
    max_checks: int | None = None,
    seed: int = 0,
    threshold: float = 1e-6,
    tiny: float = 1e-12,
    train: bool = True,
    extended: bool = True,
) -> GradcheckResult:
    """Check ``net``'s backpropagated gradients against central differences.

    Parameters
    ----------
    net : Network
        Not modified: the perturbations act on working copies of the parameters.
    X, y : array-like
        Data, as for ``loss_and_gradients``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    eps : float, default 1e-7
        Finite-difference step.
    max_checks : int, optional
        Check at most this many entries of each parameter array, drawn without
        replacement from ``default_rng(seed)``. Default: every entry.
    seed : int, default 0
    threshold : float, default 1e-6
        Verdict: passed when the maximum relative error is below it.
    tiny : float, default 1e-12
        Floor of the relative error's denominator, so two zeros compare equal.
    train : bool, default True
        Forward mode of the checked loss.
    extended : bool, default True
        Evaluate the perturbed losses in extended precision (``np.longdouble``,
        80-bit on x86). The rounding floor of a central difference is about
        ``machine_eps * |L| / eps``: 1e-9 in float64 with ``eps = 1e-7``, enough to
        hide real errors in the small gradients of deep sigmoid layers; extended
        precision lowers it a thousandfold. ``False`` checks in plain float64.

    Returns
    -------
    GradcheckResult
    """
    eps = check_positive_float("eps", eps)
    threshold = check_positive_float("threshold", threshold)
    tiny = check_positive_float("tiny", tiny)
    if max_checks is not None:
        max_checks = check_positive_int("max_checks", max_checks)
    X, Y, loss_fn = check_data(net, X, y, loss)
    if net.dtype != np.float64:
        raise ValueError(f"gradcheck needs a float64 network; this one is {net.dtype.name} (rounding would swamp eps)")
    _, analytic = loss_and_gradients(net, X, Y, loss_fn, train=train)
    rng = np.random.default_rng(seed)
    work = np.longdouble if extended else np.float64
    Xw, Yw = X.astype(work), Y.astype(work)

    def total_loss() -> np.floating:
        # Runs are independent, so d(sum of run losses)/dp is p's own run's gradient.
        return np.sum(loss_fn.value(net.forward(Xw, train=train), Yw))

    errors: dict[str, float] = {}
    checked: dict[str, int] = {}
    worst: dict[str, tuple[int, ...]] = {}
    originals = [layer.params for layer in net.layers]
    try:
        # Perturb working copies, so the network's own arrays are never touched.
        for layer in net.layers:
            layer.params = {key: value.astype(work) for key, value in layer.params.items()}
        for name, p in net.params.items():
            n = p.size if max_checks is None else min(max_checks, p.size)
            picks = np.arange(p.size) if n == p.size else np.sort(rng.choice(p.size, n, replace=False))
            numeric = np.empty(n)
            flat = p.reshape(-1)  # a view of the working copy: writing it perturbs the network
            for j, i in enumerate(picks):
                original = flat[i]
                plus, minus = original + work(eps), original - work(eps)
                flat[i] = plus
                loss_plus = total_loss()
                flat[i] = minus
                loss_minus = total_loss()
                flat[i] = original
                numeric[j] = (loss_plus - loss_minus) / (plus - minus)  # the step actually taken, not 2 * eps
            a = analytic[name].reshape(-1)[picks]
            diff = np.abs(a - numeric)
            errors[name] = float(np.linalg.norm(diff) / max(np.linalg.norm(a) + np.linalg.norm(numeric), tiny))
            checked[name] = int(n)
            k = int(diff.argmax())
            worst[name] = tuple(int(v) for v in np.unravel_index(picks[k], p.shape))
    finally:
        for layer, params in zip(net.layers, originals, strict=True):
            layer.params = params
    return GradcheckResult(errors=errors, checked=checked, threshold=threshold, eps=eps, worst_index=worst)
