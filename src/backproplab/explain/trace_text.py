"""The worked pass as text and as Markdown with LaTeX: ``backproplab trace`` prints them, Jupyter shows the Markdown.

``to_text`` and ``to_markdown`` read a ``Trace`` (``backproplab.explain.trace``) and
write each number beside its formula; ``Trace._repr_markdown_`` is ``to_markdown``,
so a notebook and ``backproplab trace --markdown`` show the same tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.losses import BinaryCrossEntropy, CrossEntropy

if TYPE_CHECKING:
    from .trace import LayerTrace, Trace

_OUTPUT_TEXT = {"sigmoid": "p = sigmoid(z)", "softmax": "p = softmax(z) = exp(z) / sum(exp(z))", "identity": "p = z"}
_OUTPUT_LATEX = {"sigmoid": r"p = \sigma(z)", "softmax": r"p = e^{z} / \sum_k e^{z_k}", "identity": r"p = z"}


def output_formula(t: Trace, latex: bool = False) -> str:
    """``p = f(z)`` for the trace's output activation.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import output_formula, trace
    >>> t = trace(bp.mlp([2, 3], output="softmax"), [1.0, 0.0], 2)
    >>> output_formula(t)
    'p = softmax(z) = exp(z) / sum(exp(z))'
    """
    return (_OUTPUT_LATEX if latex else _OUTPUT_TEXT)[t.output]


def loss_formula(t: Trace, latex: bool = False) -> str:
    """The loss of one row as a formula.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.explain.trace import loss_formula, trace
    >>> print(loss_formula(trace(bp.mlp([2, 1], output="identity"), [1.0, 0.0], 0.5), latex=True))
    L = \\overline{(p - y)^2}
    """
    text = {BinaryCrossEntropy.name: ("L = -mean(y log p + (1 - y) log(1 - p))",
                                      r"L = -\overline{y \log p + (1 - y) \log(1 - p)}"),
            CrossEntropy.name: ("L = -sum(y log p)", r"L = -\sum_k y_k \log p_k"),
            "mse": ("L = mean((p - y)**2)", r"L = \overline{(p - y)^2}")}
    return text[t.loss_name][int(latex)]


# --- text -------------------------------------------------------------------------------------
def _fmt(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=4, suppress_small=True, max_line_width=100, threshold=120,
                           edgeitems=4, floatmode="fixed", sign=" ")


def _line(out: list[str], label: str, value: np.ndarray | float, indent: int = 4) -> None:
    """``label`` and ``value``: on one line for a vector, below it for a matrix."""
    text = _fmt(value) if not isinstance(value, float) else f"{value:.6f}"
    pad = " " * indent
    if "\n" in text:
        out.append(f"{pad}{label}")
        out.extend(f"{pad}  {row}" for row in text.splitlines())
    else:
        out.append(f"{pad}{label:<38} {text}")


def _layer_title(t: LayerTrace, last: bool) -> str:
    return f"  layer {t.name}: Dense {t.W.shape[0]} -> {t.W.shape[1]}" + (" (output)" if last else "")


def to_text(t: Trace) -> str:
    """The trace as plain text: forward, loss, backward, update; formula beside each number."""
    out = [f"one row: input {_fmt(t.input)}, target {_fmt(t.target)}; "
           f"{'training' if t.train else 'evaluation'} mode; loss {t.loss_name}", "", "forward"]
    for k, layer in enumerate(t.layers):
        last = k == len(t.layers) - 1
        out.append(_layer_title(layer, last))
        _line(out, "W", layer.W)
        _line(out, "b", layer.b)
        _line(out, "z = a_prev @ W + b", layer.z)
        for s in layer.steps:
            _line(out, f"{s.layer}: {s.formula}", s.out)
        if last:
            _line(out, output_formula(t), layer.a)
    out.append(f"  {loss_formula(t)} = {t.loss:.6f}")
    out.append("")
    out.append("backward")
    for k in reversed(range(len(t.layers))):
        layer = t.layers[k]
        out.append(_layer_title(layer, k == len(t.layers) - 1))
        if layer.da is None:
            _line(out, f"delta = dL/dz = {t.delta_formula}", layer.delta)
        else:
            _line(out, "dL/da = delta_next @ W_next^T", layer.da)
            for s in layer.steps:
                _line(out, f"{s.layer}' = {s.derivative}", s.deriv)
            _line(out, "f'(z) = " + " * ".join(f"{s.layer}'" for s in layer.steps), layer.fprime)
            _line(out, "delta = dL/da * f'(z)", layer.delta)
        _line(out, "dL/dW = a_prev^T delta", layer.grad_W)
        _line(out, "dL/db = delta", layer.grad_b)
    if t.optimizer is not None:
        out += ["", f"update: {t.update_rule}"]
        for layer in t.layers:
            out.append(f"  layer {layer.name}")
            _line(out, "W_new", layer.W_new)
            _line(out, "b_new", layer.b_new)
    if t.notes:
        out += ["", *(f"note: {note}" for note in t.notes)]
    return "\n".join(out)


# --- Markdown ---------------------------------------------------------------------------------
def _md(a: np.ndarray | float) -> str:
    """A value on one table line: matrix rows separated by ``;``."""
    if isinstance(a, float):
        return f"{a:.6f}"
    a = np.atleast_2d(np.asarray(a))
    rows = ["  ".join(f"{v: .4f}" for v in r) for r in a]
    return "`[" + "; ".join(rows) + "]`"


def to_markdown(t: Trace) -> str:
    """The trace as Markdown tables (quantity, LaTeX formula, value), ready for lecture notes."""
    head = "| quantity | formula | value |\n|---|---|---|"
    out = [f"**One row** $x = $ {_md(t.input)}, target $y = $ {_md(t.target)} "
           f"({'training' if t.train else 'evaluation'} mode, loss `{t.loss_name}`).", "", "### Forward", ""]
    for k, layer in enumerate(t.layers):
        last = k == len(t.layers) - 1
        out += [f"**Layer {layer.name}** (Dense {layer.W.shape[0]} → {layer.W.shape[1]})", "", head,
                f"| $W$ | | {_md(layer.W)} |", f"| $b$ | | {_md(layer.b)} |",
                f"| $z$ | $z = a_{{prev}} W + b$ | {_md(layer.z)} |"]
        out += [f"| {s.layer} | ${s.latex[0]}$ | {_md(s.out)} |" for s in layer.steps]
        if last:
            out.append(f"| $p$ | ${output_formula(t, latex=True)}$ | {_md(layer.a)} |")
        out.append("")
    out += [f"Loss: ${loss_formula(t, latex=True)}$ = {t.loss:.6f}", "", "### Backward", ""]
    for k in reversed(range(len(t.layers))):
        layer = t.layers[k]
        out += [f"**Layer {layer.name}**", "", head]
        if layer.da is None:
            out.append(f"| $\\delta$ | $\\partial L / \\partial z = {t.delta_formula}$ | {_md(layer.delta)} |")
        else:
            out.append(f"| $\\partial L / \\partial a$ | $\\delta_{{next}} W_{{next}}^T$ | {_md(layer.da)} |")
            out += [f"| {s.layer}′ | ${s.latex[1]}$ | {_md(s.deriv)} |" for s in layer.steps]
            out.append(f"| $\\delta$ | $\\partial L / \\partial a \\odot f'(z)$ | {_md(layer.delta)} |")
        out += [f"| $\\partial L / \\partial W$ | $a_{{prev}}^T \\delta$ | {_md(layer.grad_W)} |",
                f"| $\\partial L / \\partial b$ | $\\delta$ | {_md(layer.grad_b)} |", ""]
    if t.optimizer is not None:
        sgd = t.update_rule.startswith("W - lr")
        rule_W = r"W - \eta\, \partial L / \partial W" if sgd else r"\text{first step}"
        rule_b = r"b - \eta\, \partial L / \partial b" if sgd else r"\text{first step}"
        out += [f"### Update: `{t.optimizer}`", "", head]
        for layer in t.layers:
            out += [f"| $W_{{{layer.name}}}$ | ${rule_W}$ | {_md(layer.W_new)} |",
                    f"| $b_{{{layer.name}}}$ | ${rule_b}$ | {_md(layer.b_new)} |"]
        out.append("")
    out += [f"> Note: {note}" for note in t.notes]
    return "\n".join(out).rstrip() + "\n"
