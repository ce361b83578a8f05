"""One step of backpropagation, worked: every number of one input row's forward and backward pass.

``trace(net, x, y)`` runs the network's *own* layers on one row, layer by layer,
and keeps what each one computes, so the worked numbers are the engine's numbers
and cannot drift from it:

- forward, for each Dense layer ``l``: ``z = a_prev @ W + b``, then the layers up
  to the next Dense (activation, batch norm, dropout) give ``a = f(z)``; the last
  Dense layer's ``z`` are the logits and ``p`` the output activation of them;
- the loss ``L`` of the row;
- backward: the output delta ``dL/dz`` (``p - y`` for sigmoid with binary
  cross-entropy and for softmax with cross-entropy), each hidden
  ``delta = (delta_next @ W_next^T) * f'(z)``, and ``dL/dW = a_prev^T delta``,
  ``dL/db = delta``;
- the update the optimizer would take from these gradients (``W - lr * dL/dW``
  for plain SGD), computed by the optimizer itself on a copy.

``f'(z)`` is read from the layers too: for one row every layer between two Dense
layers is element-wise, so its backward pass applied to ones is its derivative.
The network passed in is never touched: the trace runs on a single-run copy.

Batch norm on one row: in training mode a batch of one is normalised against
itself, so batch norm outputs ``beta`` and passes no gradient below it (the
trace says so); ``train=False`` traces the network as it predicts, with the
running statistics (a per-unit affine map) and without dropout.

Rumelhart, Hinton & Williams (1986); Nielsen, *Neural Networks and Deep
Learning*, chapter 2 (the four equations of backpropagation).
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.layers import ACTIVATIONS, OUTPUTS, Dense, Layer
from ..core.losses import Loss
from ..core.network import Network, check_data
from ..core.optim import Optimizer
from ..core.regularization import BatchNorm, Dropout
from .trace_text import loss_formula, output_formula, to_markdown

__all__ = ["LayerTrace", "Step", "Trace", "loss_formula", "output_formula", "trace"]

# Each layer's formulas are its own (``Layer.formula``, ``Layer.formula_latex``): written once, beside its code.
# Batch norm on one row is the trace's own case: its words depend on the mode.
_KINDS: dict[type, str] = {**{cls: name for name, cls in ACTIVATIONS.items()}, Dropout: "dropout"}
_BN_TEXT = {True: ("gamma * (x - mean) / sqrt(var + eps) + beta", "0 (a batch of one row)"),
            False: ("gamma * (x - running_mean) / sqrt(running_var + eps) + beta", "gamma / sqrt(running_var + eps)")}
_BN_LATEX = {True: (r"\gamma \hat x + \beta,\ \hat x = (x - \mu) / \sqrt{\sigma^2 + \epsilon}", r"0"),
             False: (r"\gamma (x - \mu_{run}) / \sqrt{\sigma^2_{run} + \epsilon} + \beta",
                     r"\gamma / \sqrt{\sigma^2_{run} + \epsilon}")}


@dataclass
class Step:
    """A layer between two Dense layers, on one row.

    Attributes
    ----------
    layer : str
        Its kind (``"sigmoid"``, ``"batch_norm"``, ``"dropout"``, ...).
    formula, derivative : str
        The map and its element-wise derivative, as text.
    latex : tuple of str
        The same two formulas in LaTeX.
    out : ndarray, ``(D,)``
        What the layer outputs.
    deriv : ndarray, ``(D,)``
        ``d out / d in`` per unit (the layer's backward pass applied to ones).

    Examples
    --------
    A hidden layer with dropout: two steps between the Dense layers, whose
    derivatives multiply into ``f'(z)``.

    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import trace
    >>> t = trace(bp.mlp([2, 3, 1], dropout=0.5, seed=0), [1.0, 0.0], 1)
    >>> sigmoid, dropout = t.layers[0].steps
    >>> (sigmoid.layer, sigmoid.derivative), (dropout.layer, dropout.derivative)
    (('sigmoid', 'a * (1 - a)'), ('dropout', 'mask / (1 - rate)'))
    >>> bool(np.allclose(sigmoid.deriv, sigmoid.out * (1 - sigmoid.out))), set(dropout.deriv.tolist()) <= {0.0, 2.0}
    (True, True)
    >>> bool(np.array_equal(t.layers[0].fprime, sigmoid.deriv * dropout.deriv))
    True
    """

    layer: str
    formula: str
    derivative: str
    latex: tuple[str, str]
    out: np.ndarray
    deriv: np.ndarray


@dataclass
class LayerTrace:
    """One Dense layer's share of the worked pass; every array is one row's.

    Attributes
    ----------
    name : str
        The Dense layer's index in ``net.layers``: its parameters are ``"{name}.W"`` and ``"{name}.b"``.
    a_prev : ndarray, ``(D_in,)``
    W : ndarray, ``(D_in, D_out)``
    b : ndarray, ``(D_out,)``
    z : ndarray, ``(D_out,)``
        ``a_prev @ W + b``.
    steps : list of Step
        The layers up to the next Dense layer (none for the output layer).
    a : ndarray, ``(D_out,)``
        Their output (for the output layer: ``p``, the output activation of ``z``).
    da : ndarray or None, ``(D_out,)``
        ``dL/da = delta_next @ W_next^T`` (hidden layers only).
    fprime : ndarray or None, ``(D_out,)``
        ``da/dz``, the product of the steps' derivatives (hidden layers only).
    delta : ndarray, ``(D_out,)``
        ``dL/dz``.
    grad_W : ndarray, ``(D_in, D_out)``
        ``a_prev^T delta``.
    grad_b : ndarray, ``(D_out,)``
        ``delta``.
    W_new, b_new : ndarray or None
        The parameters after the optimizer's step (None without an optimizer).

    Examples
    --------
    The four equations of backpropagation, checked on the numbers of a trace:

    >>> import numpy as np
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import trace
    >>> hidden, out = trace(bp.mlp([2, 3, 1], activation="tanh", seed=0), [1.0, 0.0], 1).layers
    >>> hidden.name, hidden.W.shape, out.name, out.W.shape
    ('0', (2, 3), '2', (3, 1))
    >>> bool(np.allclose(hidden.z, hidden.a_prev @ hidden.W + hidden.b))  # z = a_prev W + b
    True
    >>> bool(np.allclose(out.delta, out.a - 1.0))  # output: delta = p - y
    True
    >>> bool(np.allclose(hidden.delta, (out.delta @ out.W.T) * hidden.fprime))  # delta = (delta_next W_next^T) f'(z)
    True
    >>> bool(np.allclose(hidden.grad_W, np.outer(hidden.a_prev, hidden.delta)))  # dL/dW = a_prev^T delta
    True
    """

    name: str
    a_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray
    z: np.ndarray
    steps: list[Step]
    a: np.ndarray
    da: np.ndarray | None
    fprime: np.ndarray | None
    delta: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    W_new: np.ndarray | None = None
    b_new: np.ndarray | None = None


@dataclass
class Trace:
    """A worked forward and backward pass of one row (see the module docstring).

    Attributes
    ----------
    input : ndarray, ``(D_in,)``
    target : ndarray, ``(K,)``
        The row's target as the loss sees it (one-hot for cross-entropy).
    output : str
        The output activation (``"sigmoid"``, ``"softmax"``, ``"identity"``).
    loss_name : str
    loss : float
    layers : list of LayerTrace
        In forward order.
    train : bool
        Whether the layers ran in training mode (dropout masks, batch statistics).
    optimizer : str or None
        The optimizer whose step ``W_new``/``b_new`` show.
    notes : list of str
        What a reader needs to know to read the numbers (batch norm on one row...).

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import trace
    >>> t = trace(bp.mlp([2, 2, 1], seed=0), [1.0, 0.0], 1)
    >>> t.delta_formula, [layer.grad_W.shape for layer in t.layers]
    ('p - y', [(2, 2), (2, 1)])
    >>> sorted(t.to_dict()["layers"][0])[:6]
    ['W', 'W_new', 'a', 'a_prev', 'b', 'b_new']
    """

    input: np.ndarray
    target: np.ndarray
    output: str
    loss_name: str
    loss: float
    layers: list[LayerTrace]
    train: bool
    optimizer: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def delta_formula(self) -> str:
        """The output delta's formula for this output and loss, on one row."""
        k = self.target.shape[-1]
        if self.loss_name == "mse":
            return "2 (p - y) / K" if k > 1 else "2 (p - y)"
        return "(p - y) / K" if self.loss_name == "binary_cross_entropy" and k > 1 else "p - y"

    @property
    def update_rule(self) -> str:
        """The optimizer's step as a formula (plain SGD) or by name."""
        if self.optimizer is None:
            return ""
        if self.optimizer.startswith("SGD(") and "momentum" not in self.optimizer:
            return "W - lr * dL/dW"
        return f"{self.optimizer}: its first step from a fresh state"

    def _repr_markdown_(self) -> str:
        """Jupyter's display: the tables of ``backproplab trace --markdown``, formulas in LaTeX."""
        try:
            return to_markdown(self)
        except Exception:  # a display never raises: the text form instead
            return "<pre>" + html.escape(repr(self)) + "</pre>"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"input", "target", "loss", "layers": [{"name", "W", "b", "z", "a", "delta", ...}]}``."""
        return {
            "input": self.input.tolist(),
            "target": self.target.tolist(),
            "output": self.output,
            "loss_name": self.loss_name,
            "loss": float(self.loss),
            "train": self.train,
            "optimizer": self.optimizer,
            "notes": list(self.notes),
            "layers": [
                {
                    "name": t.name, "a_prev": t.a_prev.tolist(), "W": t.W.tolist(), "b": t.b.tolist(),
                    "z": t.z.tolist(), "a": t.a.tolist(),
                    "steps": [{"layer": s.layer, "formula": s.formula, "derivative": s.derivative,
                               "out": s.out.tolist(), "deriv": s.deriv.tolist()} for s in t.steps],
                    "da": None if t.da is None else t.da.tolist(),
                    "fprime": None if t.fprime is None else t.fprime.tolist(),
                    "delta": t.delta.tolist(), "grad_W": t.grad_W.tolist(), "grad_b": t.grad_b.tolist(),
                    "W_new": None if t.W_new is None else t.W_new.tolist(),
                    "b_new": None if t.b_new is None else t.b_new.tolist(),
                }
                for t in self.layers
            ],
        }


def trace(
    net: Network,
    x: Any,
    y: Any,
    *,
    loss: str | Loss | None = None,
    optimizer: Optimizer | None = None,
    train: bool = True,
    run: int | None = None,
) -> Trace:
    """Work one row through ``net`` forward and backward, keeping every number.

    Parameters
    ----------
    net : Network
        Left untouched: the trace runs on a single-run copy.
    x : array-like, ``(D_in,)``
        One input row.
    y : array-like
        Its target, as one entry of the data set's ``y``: a label, or a row ``(K,)``.
    loss : str or Loss, optional
        Defaults to the loss paired with ``net.output``.
    optimizer : Optimizer, optional
        If given, ``W_new``/``b_new`` hold the parameters after its step (taken on a copy).
    train : bool, default True
        Training mode (dropout masks, batch statistics) or evaluation mode.
    run : int, optional
        Which run of a network with a runs axis to trace; required for one.

    Returns
    -------
    Trace

    Raises
    ------
    ValueError
        For a runs axis without ``run``, a ``run`` out of range, or a row that
        does not fit the network.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import trace
    >>> net = bp.mlp([2, 3, 1], seed=0)
    >>> t = trace(net, [1.0, 0.0], 1, optimizer=bp.SGD(0.1))
    >>> [layer.name for layer in t.layers]
    ['0', '2']
    >>> out = t.layers[-1]
    >>> bool(abs(out.delta[0] - (out.a[0] - 1.0)) < 1e-15)   # p - y
    True
    >>> bool(abs(out.W_new - (out.W - 0.1 * out.grad_W)).max() < 1e-15)
    True
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a backproplab Network, got {type(net).__name__}")
    if net.runs is None and run is not None:
        raise ValueError(f"run={run} was given but the network has no runs axis")
    if net.runs is not None:
        if run is None:
            raise ValueError(f"the network has {net.runs} runs on its runs axis; a trace works one network: "
                             f"pick one with run=r (0..{net.runs - 1})")
        if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or not 0 <= run < net.runs:
            raise ValueError(f"run must be an integer in 0..{net.runs - 1}, got {run!r}")
    one = net.single_run_copy(run)  # a fresh copy: its dropout generators start from this run's seed
    x = np.asarray(x, dtype=one.dtype)
    if x.ndim != 1:
        raise ValueError(f"x must be one input row of shape ({one.n_inputs},), got shape {x.shape}")
    X, Y, loss_fn = check_data(one, x[None, :], np.asarray(y)[None, ...], loss)

    # Forward, layer by layer, keeping every layer's output.
    outs = []
    h = X
    for layer in one.layers:
        h = layer.forward(h, train=train)
        outs.append(h)
    logits = outs[-1]
    dense = [i for i, layer in enumerate(one.layers) if isinstance(layer, Dense)]
    # f'(z) of every step: its backward pass of ones, taken before the real backward overwrites any grads.
    derivs = {i: one.layers[i].backward(np.ones_like(outs[i]))
              for i in range(len(one.layers)) if not isinstance(one.layers[i], Dense)}
    # Backward, layer by layer, keeping the gradient that enters each layer.
    value, dout = loss_fn.value(logits, Y), loss_fn.gradient(logits, Y)
    grad_in = {}
    for i in reversed(range(len(one.layers))):
        grad_in[i] = dout
        dout = one.layers[i].backward(dout)

    new: dict[str, np.ndarray] = {}
    if optimizer is not None:
        new = one.copy_params()
        copy.deepcopy(optimizer).step(new, {name: g.copy() for name, g in one.grads.items()})

    layers = []
    for k, i in enumerate(dense):
        last = k == len(dense) - 1
        end = len(one.layers) if last else dense[k + 1]
        steps = [_step(one.layers[j], outs[j][0], derivs[j][0], train) for j in range(i + 1, end)]
        fprime = np.prod([s.deriv for s in steps], axis=0) if steps else np.ones_like(outs[i][0])
        W, b = one.layers[i].params["W"], one.layers[i].params["b"]
        layers.append(LayerTrace(
            name=str(i), a_prev=(X if i == 0 else outs[i - 1])[0].copy(), W=W.copy(), b=b[0].copy(),
            z=outs[i][0].copy(),
            steps=steps,
            a=OUTPUTS[one.output](logits)[0] if last else outs[end - 1][0].copy(),
            da=None if last else grad_in[end - 1][0].copy(),
            fprime=None if last else fprime,
            delta=grad_in[i][0].copy(),
            grad_W=one.layers[i].grads["W"].copy(), grad_b=one.layers[i].grads["b"][0].copy(),
            W_new=new.get(f"{i}.W"), b_new=None if not new else new[f"{i}.b"][0],
        ))
    notes = []
    if train and any(isinstance(layer, BatchNorm) for layer in one.layers):
        notes.append("batch norm in training mode normalises a batch of one row against itself: it outputs beta "
                     "and passes no gradient below it; trace in evaluation mode (train=False; --eval on the command "
                     "line) to use the running statistics")
    if train and any(isinstance(layer, Dropout) and layer.rate for layer in one.layers):
        notes.append("dropout in training mode: the mask is the first one the layer's seeded generator draws")
    return Trace(input=X[0].copy(), target=Y[0].copy(), output=one.output, loss_name=loss_fn.name,
                 loss=float(value), layers=layers, train=train,
                 optimizer=None if optimizer is None else repr(optimizer), notes=notes)


def _step(layer: Layer, out: np.ndarray, deriv: np.ndarray, train: bool) -> Step:
    """The Step record of a layer between two Dense layers."""
    if isinstance(layer, BatchNorm):
        text, latex, kind = _BN_TEXT[train], _BN_LATEX[train], "batch_norm"
    else:
        cls = type(layer)
        text = cls.formula or (cls.__name__, "its backward pass of ones")
        latex = cls.formula_latex or (rf"\text{{{cls.__name__}}}(z)", r"\text{backward}(1)")
        kind = _KINDS.get(cls, cls.__name__)
        if isinstance(layer, Dropout) and not train:
            text, latex = ("x (evaluation: no dropout)", "1"), ("x", "1")
    return Step(kind, text[0], text[1], latex, out.copy(), deriv.copy())
