"""Numerical gradient checking: compare backpropagation with central differences.

For each checked parameter entry ``p`` the numerical derivative is::

    n = (L(p + eps) - L(p - eps)) / (2 eps)

and the analytic ``a`` comes from the network's backward pass. Each entry is
judged on its own by::

    |a - n| <= atol + rtol * (|a| + |n|)

The relative part judges ordinary gradients; the absolute part keeps rounding
noise from failing an entry whose true gradient is (nearly) zero, such as a bias
that feeds batch normalisation (its gradient is ~1e-17, and both estimates are
noise). The defaults, ``rtol = 1e-6`` and ``atol = 1e-9``, pass correct
float64 networks with margin (their entries agree to ~1e-10 relative, ~1e-12
absolute) and fail a gradient that is 10 % wrong at any size down to 1e-7.
The relative error per parameter array, ``|a - n| / (|a| + |n|)`` in L2 norms
over its judged entries (CS231n's ``rel_error``), is reported for reading.

What is checked is the function training differentiates:

- *Dropout*: one mask, held fixed for the analytic gradient and for every
  perturbed evaluation (the generator states, read through ``state_dict``, are
  loaded back before each evaluation), in training mode; and the
  network in evaluation mode as well. Both modes are reported.
- *Kinks*: ReLU and leaky ReLU are not differentiable at 0. An entry whose
  perturbation moves any unit's input to such a layer across 0 (compared at
  ``p - eps``, ``p`` and ``p + eps``) has no meaningful central difference: it
  is reported "at a kink, not judged", and the others are judged.
- *Runs*: the losses are differenced run by run before they are summed, so the
  runs an entry does not move cancel exactly and add no rounding noise.

The perturbed losses are evaluated in extended precision (``np.longdouble``)
by default: a central difference carries a rounding error of about
``machine_eps * |L| / eps``, 1e-9 in float64 with ``eps = 1e-7`` (the report's
value) but about 1e-12 in 80-bit precision.

Nothing about the network changes: the check works on copies (``Network.copy``),
reset between evaluations through the state door (``load_state_dict``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_positive_float, check_positive_int, renamed
from . import _html
from .layers import Layer, LeakyReLU, ReLU
from .losses import Loss
from .network import Network, check_data
from .regularization import BatchNorm, Dropout

#: Activations with a kink at 0, where a central difference is meaningless.
KINKED: tuple[type[Layer], ...] = (ReLU, LeakyReLU)


@dataclass(frozen=True)
class ParamCheck:
    """One parameter array checked in one mode.

    Attributes
    ----------
    name : str
        Parameter name (``"0.W"``).
    mode : {"train", "eval"}
    checked : int
        Entries evaluated, judged or not.
    kinks : int
        Entries at a kink, not judged.
    failed : int
        Judged entries outside the tolerance.
    error : float
        Relative error over the judged entries (L2 norms), for reading.
    max_abs_error : float
        Largest ``|a - n|`` over the judged entries.
    worst_index : tuple of int
        The judged entry furthest beyond (or least within) its tolerance.
    """

    name: str
    mode: str
    checked: int
    kinks: int
    failed: int
    error: float
    max_abs_error: float
    worst_index: tuple[int, ...]


@dataclass(frozen=True)
class GradcheckResult:
    """Outcome of ``gradcheck``: per parameter and mode, and a verdict.

    Attributes
    ----------
    errors : dict of str to float
        Relative error of each parameter array (the largest over the modes), in
        the network's order. For reading: the verdict is per entry.
    checked : dict of str to int
        Number of entries checked per parameter (in each mode).
    rtol, atol : float
        An entry passes if ``|a - n| <= atol + rtol * (|a| + |n|)``.
    eps : float
        The finite-difference step used.
    failed : dict of str to int
        Judged entries outside the tolerance, per parameter, summed over the modes.
    kinks : dict of str to int
        Entries at a kink of ReLU or leaky ReLU, not judged, summed over the modes.
    worst_index : dict of str to tuple of int
        Per parameter, the entry furthest beyond (or least within) its tolerance.
    details : tuple of ParamCheck
        One row per mode and parameter.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> result = bp.gradcheck(bp.mlp([2, 4, 1], seed=0), X, y)
    >>> result.passed, list(result.errors), sum(result.failed.values())
    (True, ['0.W', '0.b', '2.W', '2.b'], 0)
    >>> bool(result.max_error < 1e-8)
    True
    """

    errors: dict[str, float]
    checked: dict[str, int]
    rtol: float
    atol: float
    eps: float
    failed: dict[str, int]
    kinks: dict[str, int] = field(default_factory=dict)
    worst_index: dict[str, tuple[int, ...]] = field(default_factory=dict)
    details: tuple[ParamCheck, ...] = ()

    @property
    def threshold(self) -> float:
        """``rtol``, under the name the verdict's bound had before it was judged per entry."""
        return self.rtol

    @property
    def modes(self) -> tuple[str, ...]:
        """The forward modes checked: ``("train",)``, ``("eval",)`` or ``("train", "eval")``."""
        return tuple(dict.fromkeys(d.mode for d in self.details))

    @property
    def max_error(self) -> float:
        """Largest relative error over all parameters and modes."""
        return max(self.errors.values(), default=0.0)

    @property
    def n_kinks(self) -> int:
        """Entries at a kink, not judged (all parameters and modes)."""
        return sum(self.kinks.values())

    @property
    def passed(self) -> bool:
        """Whether every judged entry is within tolerance (and at least one was judged)."""
        judged = sum(self.checked.values()) * max(len(self.modes), 1) - self.n_kinks
        return judged > 0 and not any(self.failed.values()) and all(np.isfinite(e) for e in self.errors.values())

    @property
    def rule(self) -> str:
        """The per-entry rule with its tolerances, for messages."""
        return f"|a - n| <= {self.atol:.0e} + {self.rtol:.0e} * (|a| + |n|)"

    def summary(self) -> str:
        """One line: the verdict, the rule, the largest relative error and the kinks."""
        failed = sum(self.failed.values())
        head = "PASSED" if self.passed else f"FAILED ({failed} {'entry' if failed == 1 else 'entries'} outside)"
        line = f"{head}: {self.rule} per entry; max relative error {self.max_error:.2e}"
        if self.n_kinks:
            line += f"; {self.n_kinks} {'entry' if self.n_kinks == 1 else 'entries'} at a kink, not judged"
        return line

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON output."""
        return {
            "passed": self.passed,
            "max_error": self.max_error,
            "rtol": self.rtol,
            "atol": self.atol,
            "eps": self.eps,
            "modes": list(self.modes),
            "kinks": self.n_kinks,
            "parameters": {
                name: {"max_error": err, "checked": self.checked[name], "failed": self.failed.get(name, 0),
                       "kinks": self.kinks.get(name, 0),
                       "modes": {d.mode: {"error": d.error, "max_abs_error": d.max_abs_error, "failed": d.failed,
                                          "kinks": d.kinks} for d in self.details if d.name == name}}
                for name, err in self.errors.items()
            },
        }

    def _repr_html_(self) -> str:
        """Jupyter's display: the verdict and a table of the parameter arrays."""
        return _html.safe(lambda: _html.gradcheck_html(self), self)

    def __repr__(self) -> str:
        lines = [f"GradcheckResult({self.summary()}"]
        width = max((len(d.name) for d in self.details), default=0)  # pragma: no mutate (no rows: never read)
        for d in self.details:
            mode = f"{d.mode:<5}  " if len(self.modes) > 1 else ""
            notes = [f"{d.checked} {'entry' if d.checked == 1 else 'entries'}"]
            notes += [f"{d.kinks} at a kink"] if d.kinks else []
            notes += [f"{d.failed} failed"] if d.failed else []
            lines.append(f"  {mode}{d.name:<{width}}  {d.error:.2e}  ({', '.join(notes)})")
        return "\n".join(lines) + ")"


def gradcheck(
    net: Network,
    X: Any,
    y: Any,
    loss: str | Loss | None = None,
    eps: float = 1e-7,
    max_checks: int | None = None,
    sample_seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    tiny: float = 1e-12,
    train: bool | None = None,
    extended: bool = True,
    max_rows: int | None = None,
    *,
    threshold: float | None = None,
    seed: int | None = None,
) -> GradcheckResult:
    """Check ``net``'s backpropagated gradients against central differences.

    Parameters
    ----------
    net : Network
        Left as it was: the check works on copies of it.
    X : array-like, ``(B, D_in)`` or ``(R, B, D_in)``
    y : array-like
        Targets, as for ``loss_and_gradients``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    eps : float, default 1e-7
        Finite-difference step. A step lost in rounding (below 16 units in the last
        place of the largest parameter in the working precision) or above 1e100 is
        refused with ``ValueError``: it would give no difference quotient, or an
        overflowing one.
    max_checks : int, optional
        Check at most this many entries of each parameter array, drawn without
        replacement from ``default_rng(sample_seed)``. Default: every entry.
    sample_seed : int, default 0
        Seed of the entries and rows drawn (the network's weights have theirs: ``mlp(seed=)``).
    rtol : float, default 1e-6
        Relative tolerance of the per-entry rule ``|a - n| <= atol + rtol * (|a| + |n|)``.
    atol : float, default 1e-9
        Absolute tolerance of that rule: the size below which a disagreement is
        rounding noise (about 1e-12 in extended precision, 1e-9 in float64).
    tiny : float, default 1e-12
        Floor of the reported relative error's denominator, so two zeros read 0.
    train : bool, optional
        Forward mode checked. Default: training mode, and evaluation mode as
        well when some layer behaves differently in the two (dropout, batch norm,
        or any layer with buffers or a random generator).
    extended : bool, default True
        Evaluate the perturbed losses in extended precision (``np.longdouble``,
        80-bit on x86). ``False`` checks in plain float64 (raise ``atol`` to ~1e-7 then).
    max_rows : int, optional
        Check on at most this many rows of the data, drawn from ``default_rng(sample_seed)``
        (a mini-batch, as training sees). Default: every row.
    threshold : float, optional
        The earlier name of ``rtol`` (the verdict used to be ``max relative error <
        threshold``); kept so code written for it still runs. Give one of the two.
    seed : int, optional
        The earlier name of ``sample_seed``: still accepted, with a ``DeprecationWarning``.

    Returns
    -------
    GradcheckResult

    Examples
    --------
    >>> import numpy as np, backproplab as bp
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> bp.gradcheck(bp.mlp([2, 8, 1], dropout=0.5, seed=0), X, [0, 1, 1, 0]).passed
    True
    """
    eps = check_positive_float("eps", eps)
    if threshold is not None:
        if rtol != 1e-6:
            raise TypeError("gradcheck takes rtol or its earlier name threshold, not both")
        rtol = threshold
    rtol = check_positive_float("rtol", rtol, allow_zero=True)
    atol = check_positive_float("atol", atol, allow_zero=True)
    tiny = check_positive_float("tiny", tiny)
    if max_checks is not None:
        max_checks = check_positive_int("max_checks", max_checks)
    if max_rows is not None:
        max_rows = check_positive_int("max_rows", max_rows)
    X, Y, loss_fn = check_data(net, X, y, loss)
    if net.dtype != np.float64:
        raise ValueError(f"gradcheck needs a float64 network; this one is {net.dtype.name} (rounding would swamp eps)")
    sample_seed = renamed("gradcheck", "sample_seed", sample_seed, 0, "seed", seed)
    rng = np.random.default_rng(check_positive_int("sample_seed", sample_seed, minimum=0))
    if max_rows is not None and X.shape[-2] > max_rows:
        rows = np.sort(rng.choice(X.shape[-2], max_rows, replace=False))
        X, Y = X[..., rows, :], Y[..., rows, :]
    if train is None:
        modes = [True, False] if any(_modal(layer) for layer in net.layers) else [True]
    else:
        modes = [bool(train)]
    picks = {}
    for name, p in net.params.items():
        n = p.size if max_checks is None else min(max_checks, p.size)
        picks[name] = np.arange(p.size) if n == p.size else np.sort(rng.choice(p.size, n, replace=False))

    check_eps(eps, net, extended=extended)
    work = np.longdouble if extended else np.float64
    # Copies of the network, so that its own arrays, buffers and generators are never touched: one
    # to backpropagate, one whose parameters are perturbed in the working precision (X and y promote
    # to it; in C order, so that `ravel` in `_numeric` is a view). Before every evaluation each is
    # put back through the state door to the network's buffers and generator states, so every
    # evaluation sees the same running statistics and draws the same dropout mask: the loss is one
    # function of the parameters.
    start = net.state_dict(copy=True, generators=True)
    fixed = {name: value for name, value in start.items() if name not in net.params}
    base, perturbed = net.copy(), net.copy(dtype=work)
    analytic = {mode: _analytic(base, X, Y, loss_fn, mode, lambda: base.load_state_dict(start)) for mode in modes}
    details = []
    for mode, (grads, base_sides) in analytic.items():
        def evaluate(mode: bool = mode) -> tuple[np.ndarray, list[np.ndarray]]:
            perturbed.load_state_dict({**perturbed.params, **fixed})
            z, sides = _forward(perturbed, X, mode)
            return np.atleast_1d(loss_fn.value(z, Y)), sides

        for name, p in perturbed.params.items():
            numeric, kinks = _numeric(p, picks[name], work(eps), evaluate, base_sides)
            a = grads[name].ravel()[picks[name]]
            details.append(_judge(name, "train" if mode else "eval", p.shape, picks[name], a, numeric, kinks,
                                  rtol, atol, tiny))
    names = list(net.params)
    errors = {n: max(d.error for d in details if d.name == n) for n in names}
    worst = {n: max((d for d in details if d.name == n), key=lambda d: d.error).worst_index for n in names}
    return GradcheckResult(
        errors=errors, checked={n: len(picks[n]) for n in names}, rtol=rtol, atol=atol, eps=eps,
        failed={n: sum(d.failed for d in details if d.name == n) for n in names},
        kinks={n: sum(d.kinks for d in details if d.name == n) for n in names},
        worst_index=worst, details=tuple(details),
    )


def _modal(layer: Layer) -> bool:
    """Whether ``layer`` may compute another function in training than in evaluation."""
    return isinstance(layer, (Dropout, BatchNorm)) or bool(layer.buffers) or bool(layer.generators())


def _forward(net: Network, x: np.ndarray, train: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits, and for every layer with a kink which of its inputs lie above it (``x > 0``)."""
    sides = []
    for layer in net.layers:
        if isinstance(layer, KINKED):
            sides.append(x > 0)
        x = layer.forward(x, train=train)
    return x, sides


def _analytic(net: Network, X: np.ndarray, Y: np.ndarray, loss_fn: Loss, train: bool,
              reset: Callable[[], None]) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Backpropagated gradients (copies) and the kink sides at the unperturbed parameters."""
    reset()
    z, sides = _forward(net, X, train)
    net.backward(loss_fn.gradient(z, Y))
    return {name: g.copy() for name, g in net.grads.items()}, sides


def check_eps(eps: float, net: Network, *, extended: bool = True) -> None:
    """Raise ``ValueError`` unless a step of ``eps`` moves every parameter of ``net`` by more than rounding.

    Below 16 units in the last place of the largest parameter (in the working
    precision), ``p + eps`` and ``p - eps`` round to (nearly) the same number and
    the difference quotient is 0 / 0; above 1e100 a step can overflow the forward pass.
    ``gradcheck`` calls it first; the command line calls it too, to answer with its flag.
    """
    work = np.longdouble if extended else np.float64
    largest = max((float(np.max(np.abs(p), initial=0.0)) for p in net.params.values()), default=0.0)
    floor = 16 * float(np.finfo(work).eps) * max(1.0, largest)
    precision = "extended" if work is np.longdouble else "float64"
    if eps < floor:
        raise ValueError(f"eps={eps:g} is too small: a step below {floor:.2g} (16 units in the last place of the "
                         f"largest parameter, {largest:.3g}, in {precision} precision) is lost in rounding; "
                         "the default is 1e-7")
    if eps > 1e100:
        raise ValueError(f"eps={eps:g} is too large: steps above 1e100 can overflow the forward pass; "
                         "the default is 1e-7")


def _numeric(p: np.ndarray, picks: np.ndarray, eps: np.floating,
             evaluate: Callable[[], tuple[np.ndarray, list[np.ndarray]]],
             base_sides: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of the entries ``picks`` of ``p`` (flat indices), and which sit at a kink."""
    numeric, kinks = np.empty(len(picks)), np.empty(len(picks), bool)  # every entry is written below
    flat = p.ravel()  # a view of the (contiguous) working copy: writing it perturbs the network
    for j, i in enumerate(picks):
        original = flat[i]
        plus, minus = original + eps, original - eps
        flat[i] = plus
        loss_plus, sides_plus = evaluate()
        flat[i] = minus
        loss_minus, sides_minus = evaluate()
        flat[i] = original
        # Each run's loss is differenced before the sum: the runs the entry does not move cancel exactly,
        # so they add no rounding noise. Divided by the step actually taken, not 2 * eps.
        numeric[j] = np.sum(loss_plus - loss_minus) / (plus - minus)
        # At a kink if either step moved some unit's input to another side of 0 than at p.
        kinks[j] = not all(map(np.array_equal, sides_plus + sides_minus, base_sides + base_sides))
    return numeric, kinks


def _judge(name: str, mode: str, shape: tuple[int, ...], picks: np.ndarray, a: np.ndarray, n: np.ndarray,
           kinks: np.ndarray, rtol: float, atol: float, tiny: float) -> ParamCheck:
    """Apply the per-entry rule to the judged entries (those not at a kink)."""
    judged = ~kinks
    a, n, where = a[judged], n[judged], picks[judged]
    diff = np.abs(a - n)
    excess = diff - (atol + rtol * (np.abs(a) + np.abs(n)))  # > 0: outside the tolerance
    excess = np.where(np.isfinite(excess), excess, np.inf)
    error = float(np.linalg.norm(diff) / max(np.linalg.norm(a) + np.linalg.norm(n), tiny))  # 0 if none judged
    worst = tuple(int(v) for v in np.unravel_index(where[excess.argmax()], shape)) if len(a) else ()
    return ParamCheck(name, mode, checked=len(picks), kinks=int(kinks.sum()), failed=int((excess > 0).sum()),
                      error=error if np.isfinite(error) else float("inf"),
                      max_abs_error=float(diff.max()) if len(a) else 0.0, worst_index=worst)
