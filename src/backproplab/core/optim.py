"""Optimizers: update parameters in place from their gradients.

One base class handles what every optimizer shares — gradient clipping, an
option of the update, never a change to the network's stored gradients — and
each subclass computes only its update rule, stated as code in its docstring.

Weight decay (L2) is also handled here: ``weight_decay`` adds ``wd * p`` to the
(clipped) gradient before the rule sees it, as PyTorch's optimizers do; AdamW
instead decays the parameters directly ("decoupled", Loshchilov & Hutter 2019).

Clipping respects the runs axis: a parameter with a runs axis is 3-D
(``(R, ., .)``), and its global norm is computed per run, so one run's large
gradient never shrinks another run's step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._checks import check_choice, check_positive_float, is_int


class Optimizer:
    """Base class.

    Parameters
    ----------
    lr : float
        Learning rate, finite and > 0.
    clip_norm : float, optional
        If set, gradients are scaled so that their global L2 norm (over all
        parameters of one run) is at most ``clip_norm``.
    clip_value : float, optional
        If set, each gradient entry is clipped to ``[-clip_value, clip_value]``
        (applied before ``clip_norm``).
    weight_decay : float, default 0
        L2 penalty ``wd/2 * ||p||**2`` added to the loss: ``g = g + wd * p`` after
        clipping (AdamW decouples it, see there). Applies to every parameter.

    Examples
    --------
    A subclass computes only its rule in ``update``; clipping, weight decay and
    the step count come from the base class.

    >>> import numpy as np
    >>> import backproplab as bp
    >>> class SignSGD(bp.Optimizer):  # p = p - lr * sign(g)
    ...     def update(self, name, p, g):
    ...         p -= self.lr * np.sign(g)
    >>> params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.array([0.5, -3.0])}
    >>> opt = SignSGD(0.1, weight_decay=2.0)
    >>> opt.step(params, grads)  # g + wd * p = (2.5, 1.0): the decay outweighs the second gradient
    >>> params["w"], opt.t, opt
    (array([0.9, 1.9]), 1, SignSGD(lr=0.1, weight_decay=2.0))
    """

    #: Whether ``weight_decay`` is added to the gradient (L2); AdamW sets False and decays ``p`` itself.
    couples_weight_decay = True

    def __init__(
        self,
        lr: float,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        weight_decay: float = 0.0,
    ) -> None:
        self.lr = check_positive_float("lr", lr)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.clip_norm = None if clip_norm is None else check_positive_float("clip_norm", clip_norm)
        self.clip_value = None if clip_value is None else check_positive_float("clip_value", clip_value)
        #: Per-parameter state (momentum buffers, moments, ...), keyed like the parameters.
        self.state: dict[str, dict[str, np.ndarray]] = {}
        #: Number of steps taken.
        self.t = 0
        # Scratch arrays for `_scaled`, by parameter name: work space, not state (never saved).
        self._work: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place from ``grads`` (same keys)."""
        if self.clip_value is not None:
            grads = {name: np.clip(g, -self.clip_value, self.clip_value) for name, g in grads.items()}
        if self.clip_norm is not None:
            scale = clip_scale(grads, self.clip_norm)
            grads = {name: g * scale for name, g in grads.items()}
        self.t += 1
        wd = self.weight_decay if self.couples_weight_decay else 0.0
        for name, p in params.items():
            self.update(name, p, grads[name] + wd * p if wd else grads[name])

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        """Apply this optimizer's rule to one parameter ``p`` (in place)."""
        raise NotImplementedError

    # --- the state door ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything the optimizer carries from step to step: ``{"t": steps, "buffers": {name: {slot: array}}}``.

        Copies: nothing later changes them. The learning rate is a setting (schedules
        change it), not state: read and set ``lr``.

        Examples
        --------
        >>> import numpy as np
        >>> import backproplab as bp
        >>> opt = bp.Adam(0.1)
        >>> opt.step({"w": np.ones(2)}, {"w": np.array([0.5, -0.5])})
        >>> state = opt.state_dict()
        >>> state["t"], sorted(state["buffers"]["w"])
        (1, ['m', 'v'])
        >>> again = bp.Adam(0.1)
        >>> again.load_state_dict(state)
        >>> again.t, bool(np.array_equal(again.state_dict()["buffers"]["w"]["v"], state["buffers"]["w"]["v"]))
        (1, True)
        """
        return {"t": self.t, "buffers": {name: {k: v.copy() for k, v in slots.items()}
                                         for name, slots in self.state.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Take the step count and buffers of ``state`` (as ``state_dict()`` gives them; copied in).

        Raises
        ------
        TypeError, ValueError
            If ``state`` is not such a dict, ``t`` not an int >= 0, or a buffer not a real array. (A
            buffer may hold NaN: the moments of a run that diverged and was frozen.)
        """
        if not isinstance(state, Mapping) or set(state) != {"t", "buffers"}:
            raise TypeError(f"optimizer state must be a dict with keys 't' and 'buffers', got {state!r:.80}")
        t, buffers = state["t"], state["buffers"]
        if not is_int(t) or t < 0:
            raise ValueError(f"optimizer state 't' must be an int >= 0, got {t!r:.40}")
        if not isinstance(buffers, Mapping) or not all(isinstance(slots, Mapping) for slots in buffers.values()):
            raise TypeError("optimizer state 'buffers' must map each parameter name to a dict of arrays")
        for name, slots in buffers.items():
            for key, value in slots.items():
                if np.asarray(value).dtype.kind not in "fiu":
                    raise TypeError(f"optimizer state {name}/{key} must hold real numbers")
        self.state = {name: {k: np.array(v) for k, v in slots.items()} for name, slots in buffers.items()}
        self.t = int(t)

    def _buffer(self, name: str, key: str, like: np.ndarray) -> np.ndarray:
        """The state array ``key`` of parameter ``name``, created as zeros shaped like ``like``."""
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(like)
        return slot[key]

    def _scaled(self, name: str, g: np.ndarray, factor: float) -> np.ndarray:
        """``factor * g``, written into a scratch array kept for ``name`` between steps.

        The product is only read by the update that follows. A fresh temporary the
        size of a wide layer's weights (megabytes) makes the allocator hand memory
        back and fault it in again at every step, which costs more than the
        multiplication. (Callers keep small arrays on the plain temporary, which
        is cheaper than this bookkeeping.)
        """
        out = self._work.get(name)
        if out is None or out.shape != g.shape or out.dtype != g.dtype:
            out = self._work[name] = np.empty_like(g)
        return np.multiply(g, factor, out=out)  # same values as factor * g

    def _options(self) -> tuple[tuple[str, object], ...]:
        """Hyper-parameters shown by ``repr`` (besides lr, weight decay and clipping)."""
        return ()

    def __repr__(self) -> str:
        options = (*self._options(), ("weight_decay", self.weight_decay or None))
        options += (("clip_norm", self.clip_norm), ("clip_value", self.clip_value))
        extra = "".join(f", {k}={v!r}" for k, v in options if v is not None)
        return f"{type(self).__name__}(lr={self.lr!r}{extra})"


def global_norm(grads: dict[str, np.ndarray]) -> np.ndarray | float:
    """L2 norm of all gradients together, per run: ``(R,)`` with a runs axis, else a float."""
    total = 0.0
    for g in grads.values():
        sq = g * g
        total = total + (sq.sum(axis=(-2, -1)) if g.ndim == 3 else sq.sum())  # (R,) or a scalar
    return np.sqrt(total)


def clip_scale(grads: dict[str, np.ndarray], max_norm: float) -> np.ndarray | float:
    """Factor (``<= 1``) that brings the global norm down to ``max_norm``: ``(R, 1, 1)`` or a float."""
    norm = global_norm(grads)
    scale = np.minimum(1.0, max_norm / np.maximum(norm, 1e-300))
    return scale[:, None, None] if np.ndim(scale) else float(scale)


def _check_unit(name: str, value: float) -> float:
    """``value`` as a float in ``[0, 1)``, else a ValueError naming ``name``."""
    value = check_positive_float(name, value, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


class SGD(Optimizer):
    """Mini-batch gradient descent (the report's optimizer), with optional momentum.

    Update rule (PyTorch's form; Polyak 1964, Sutskever et al. 2013)::

        p = p - lr * g                     # momentum=0, the default

        v = momentum * v + g               # v starts at zero
        p = p - lr * v                     # heavy ball
        p = p - lr * (g + momentum * v)    # nesterov=True

    Parameters
    ----------
    lr : float
    momentum : float, default 0
        In ``[0, 1)``.
    nesterov : bool, default False
        Nesterov's look-ahead form; needs ``momentum > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.array([0.5, -1.0])}
    >>> bp.SGD(0.1).step(params, grads)  # p = p - lr * g
    >>> params["w"]
    array([0.95, 2.1 ])
    """

    def __init__(self, lr: float, momentum: float = 0.0, *, nesterov: bool = False, **options: float | None) -> None:
        super().__init__(lr, **options)
        self.momentum = _check_unit("momentum", momentum)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        if not self.momentum:
            # Small arrays keep the plain temporary, cheaper than the scratch (see _scaled); the same lr * g.
            if g.size < 4096:  # pragma: no mutate
                p -= self.lr * g
            else:
                p -= self._scaled(name, g, self.lr)
            return
        v = self._buffer(name, "velocity", p)
        v *= self.momentum
        v += g
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)

    def _options(self) -> tuple[tuple[str, object], ...]:
        return (("momentum", self.momentum or None), ("nesterov", self.nesterov or None))


class RMSprop(Optimizer):
    """Divide the step by a running root-mean-square of the gradient (Hinton, lecture 6e, 2012).

    Update rule::

        s = rho * s + (1 - rho) * g**2
        p = p - lr * g / (sqrt(s) + eps)

    Parameters
    ----------
    lr : float, default 0.001
    rho : float, default 0.99
        Decay of the running mean of squares, in ``[0, 1)`` (PyTorch's ``alpha``).
    eps : float, default 1e-8

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([2.0])}
    >>> bp.RMSprop(0.01, rho=0.0).step(params, grads)  # rho 0: v = g**2, the step is lr * sign(g)
    >>> params["w"].round(6)
    array([0.99])
    """

    def __init__(self, lr: float = 0.001, rho: float = 0.99, eps: float = 1e-8, **options: float | None) -> None:
        super().__init__(lr, **options)
        self.rho = _check_unit("rho", rho)
        self.eps = check_positive_float("eps", eps)

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        s = self._buffer(name, "square_avg", p)
        s *= self.rho
        s += (1.0 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def _options(self) -> tuple[tuple[str, object], ...]:
        return (("rho", self.rho), ("eps", self.eps))


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba 2014), with bias correction.

    Update rule (``t`` counts steps from 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    ``weight_decay`` here is the L2 penalty added to ``g``; see ``AdamW`` for the
    decoupled form.

    Parameters
    ----------
    lr : float, default 0.001
    beta1, beta2 : float, default 0.9, 0.999
        In ``[0, 1)``.
    eps : float, default 1e-8

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> params, grads = {"w": np.array([1.0, 2.0])}, {"w": np.array([0.5, -1e-3])}
    >>> bp.Adam(0.1).step(params, grads)  # the first step is about lr * sign(g), whatever g's size
    >>> params["w"].round(4)
    array([0.9, 2.1])
    """

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, **options: float | None
    ) -> None:
        super().__init__(lr, **options)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.eps = check_positive_float("eps", eps)

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        m = self._buffer(name, "m", p)
        v = self._buffer(name, "v", p)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        m_hat = m / (1.0 - self.beta1**self.t)
        v_hat = v / (1.0 - self.beta2**self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _options(self) -> tuple[tuple[str, object], ...]:
        return (("beta1", self.beta1), ("beta2", self.beta2), ("eps", self.eps))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), in PyTorch's form.

    Update rule::

        p = p - lr * weight_decay * p          # decay first, from the old p
        m, v, m_hat, v_hat as in Adam (g without any L2 term)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    lr : float, default 0.001
    weight_decay : float, default 0.01
    beta1, beta2, eps : as in ``Adam``.

    Examples
    --------
    >>> import numpy as np
    >>> import backproplab as bp
    >>> params, grads = {"w": np.array([1.0])}, {"w": np.array([0.0])}
    >>> bp.AdamW(0.1, weight_decay=0.5).step(params, grads)  # no gradient: only the decay p -= lr * wd * p
    >>> params["w"]
    array([0.95])
    """

    couples_weight_decay = False

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.01,
        **options: float | None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, **options)

    def update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        p *= 1.0 - self.lr * self.weight_decay
        super().update(name, p, g)


#: Optimizers by name, for config files and the command line.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


#: Short names for SGD with momentum, with the options each stands for (an explicit option overrides them).
ALIASES: dict[str, dict[str, float | bool]] = {
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True},
}

#: Every name ``get_optimizer`` accepts, with the class it builds (config files and the playground offer these).
OPTIMIZER_NAMES: dict[str, type[Optimizer]] = {**OPTIMIZERS, **dict.fromkeys(ALIASES, SGD)}


def get_optimizer(name: str, lr: float, **options: float | bool | None) -> Optimizer:
    """Build the optimizer registered under ``name`` (``"sgd"``, ``"momentum"``, ``"adam"``, ...).

    Two short names add momentum to SGD (``ALIASES``): ``"momentum"`` is
    ``SGD(lr, momentum=0.9)`` and ``"nesterov"`` is ``SGD(lr, momentum=0.9,
    nesterov=True)`` (an explicit ``momentum=`` option overrides the 0.9).
    """
    check_choice("optimizer", name, OPTIMIZER_NAMES)
    options = {**ALIASES.get(name, {}), **options}
    return OPTIMIZER_NAMES[name](lr, **options)  # type: ignore[arg-type]
