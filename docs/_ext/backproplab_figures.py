"""The tutorial's pictures, drawn at build time from the numbers of ``backproplab.explain.trace``.

- ``network_figure``: a network as circles and lines, each unit with its forward value ``a`` and its delta,
  each weight's line as thick as the weight is large (blue positive, orange negative), optionally labelled;
- ``unit_figure``: one hidden unit as a computational graph (CS231n's "circuits"): forward values above
  each wire, gradients below, from the inputs through ``*``, ``+`` and the activation to ``dL/da``.

Both take a ``Trace`` and return a matplotlib ``Figure`` (saving is the caller's job).
"""

from __future__ import annotations

from typing import Any

import numpy as np

POSITIVE, NEGATIVE = "#1f77b4", "#ff7f0e"  # blue and orange: told apart with any colour vision
FORWARD, BACKWARD = "#1a7f37", "#c62828"  # green values above the wires, red gradients below (CS231n)


def network_figure(t: Any, *, weight_labels: bool = False, names: dict[str, str] | None = None,
                   title: str = "") -> Any:
    """The traced network with its numbers: inputs, each unit's ``a`` and ``delta``, the weights.

    ``weight_labels`` writes every weight's value on its line (small networks only); ``names`` maps
    ``"LAYER.i.j"`` (weight ``W[i, j]`` of Dense layer ``LAYER``) to a label such as ``"w1"``.
    """
    from matplotlib.figure import Figure

    sizes = [t.input.size] + [layer.z.size for layer in t.layers]
    height = max(sizes)
    fig = Figure(figsize=(6.4, 0.6 * height + 1.4 if height > 2 else 4.0), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    xs = np.linspace(0, 3.2 * (len(sizes) - 1), len(sizes))

    def ys(n: int) -> np.ndarray:
        return (np.arange(n) - (n - 1) / 2)[::-1] * (1.25 if height > 2 else 2.0)

    biggest = max(np.abs(layer.W).max() for layer in t.layers)
    for k, layer in enumerate(t.layers):
        for i, y0 in enumerate(ys(sizes[k])):
            for j, y1 in enumerate(ys(sizes[k + 1])):
                w = layer.W[i, j]
                ax.plot([xs[k], xs[k + 1]], [y0, y1], color=POSITIVE if w >= 0 else NEGATIVE,
                        lw=0.4 + 3.2 * abs(w) / biggest, zorder=1, solid_capstyle="round")
                if weight_labels:
                    f = 0.36 if (i + j) % 2 == 0 else 0.62  # staggered along the line: crossing labels stay apart
                    label = (names or {}).get(f"{layer.name}.{i}.{j}", "")
                    text = f"{label} = {w:.2f}" if label else f"{w:.2f}"
                    ax.text(xs[k] + f * (xs[k + 1] - xs[k]), y0 + f * (y1 - y0), text, fontsize=8,
                            ha="center", va="center", zorder=3,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})
    r = 0.5
    for i, y0 in enumerate(ys(sizes[0])):
        _unit(ax, xs[0], y0, r, f"x{i + 1}\n{t.input[i]:.2f}", "#eeeeee")
    for k, layer in enumerate(t.layers):
        last = k == len(t.layers) - 1
        for j, y0 in enumerate(ys(sizes[k + 1])):
            _unit(ax, xs[k + 1], y0, r, f"{'p' if last else 'a'}\n{layer.a[j]:.3f}", "#ffffff")
            ax.text(xs[k + 1] + r * 0.75, y0 - r * 0.75, f"δ {layer.delta[j]:+.4f}", color=BACKWARD, fontsize=8,
                    va="top", ha="left", zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})
        below = ys(sizes[k + 1])[-1] - r - 0.45
        if layer.b.any():
            ax.text(xs[k + 1], below, "b = " + ", ".join(f"{v:.2f}" for v in layer.b), ha="center", va="top",
                    fontsize=8)
    target = ", ".join(f"{v:g}" for v in np.atleast_1d(t.target))
    ax.text(xs[-1], ys(sizes[-1])[-1] - r - 0.9, f"target y = {target}", ha="center", va="top", fontsize=9)
    ax.text(xs[0] - 0.6, ys(height)[-1] - r - 1.5, "line width ∝ |w|; blue w > 0, orange w < 0;  "
            "a: activation, p: output, δ = ∂L/∂z", fontsize=8, color="#333333", va="top")
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 1.8)
    ax.set_ylim(ys(height)[-1] - r - 1.9, ys(height)[0] + r + 0.3)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _unit(ax: Any, x: float, y: float, r: float, text: str, face: str) -> None:
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), r, fc=face, ec="#333333", lw=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=8, zorder=3)


def unit_figure(t: Any, *, unit: int = 0, title: str = "") -> Any:
    """Hidden unit ``unit`` of the first layer as a circuit: ``x_i * w_i``, their sum with ``b``, ``sigma``.

    Above each wire its forward value, below it the gradient of the loss with respect to it, so the
    chain rule reads off the picture: each gate multiplies the gradient from its right by its local slope.
    """
    from matplotlib.figure import Figure

    layer = t.layers[0]
    x, w, b = t.input, layer.W[:, unit], float(layer.b[unit])
    z, a, da, delta = (float(v[unit]) for v in (layer.z, layer.a, layer.da, layer.delta))
    fig = Figure(figsize=(7.2, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    n = x.size
    rows = [2.0 * (n - 1) - 4.0 * i for i in range(n)]  # the inputs 4 apart, centred on 0
    mid = float(np.mean(rows))
    node = {"sum": (6.0, mid), "act": (8.3, mid), "out": (10.3, mid)}
    for i, y0 in enumerate(rows):
        gate = (3.4, y0)
        _wire(ax, (0.2, y0 + 1.0), gate, f"x{i + 1} = {x[i]:.2f}", f"{w[i] * delta:+.4f}")
        _wire(ax, (0.2, y0 - 1.0), gate, f"w{i + 1} = {w[i]:.4f}", f"{x[i] * delta:+.4f}")
        _gate(ax, gate, "×")
        _wire(ax, gate, node["sum"], f"{x[i] * w[i]:.4f}", f"{delta:+.4f}")
    _wire(ax, (node["sum"][0], mid - 2.6), node["sum"], f"b = {b:.2f}", f"{delta:+.4f}", side=True)
    _gate(ax, node["sum"], "+")
    _wire(ax, node["sum"], node["act"], f"z = {z:.4f}", f"δ = {delta:+.4f}")
    _gate(ax, node["act"], "σ")
    _wire(ax, node["act"], node["out"], f"a = {a:.4f}", f"{da:+.4f}")
    ax.text(*node["out"], "  … L", va="center", ha="left", fontsize=10)
    ax.text(0.2, min(rows) - 1.6, "green: forward value     red: ∂L/∂(this wire)     "
            f"σ: local slope a(1 − a) = {a * (1 - a):.4f}", fontsize=8, color="#333333", va="top")
    ax.set_xlim(0, 11.2)
    ax.set_ylim(min(rows) - 2.0, max(rows) + 1.4)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _gate(ax: Any, at: tuple[float, float], symbol: str) -> None:
    from matplotlib.patches import Circle

    ax.add_patch(Circle(at, 0.32, fc="#f4f4f4", ec="#333333", lw=1.0, zorder=2))
    ax.text(*at, symbol, ha="center", va="center", fontsize=13, zorder=3)


def _wire(ax: Any, start: tuple[float, float], end: tuple[float, float], forward: str, backward: str,
          side: bool = False) -> None:
    """An arrow from ``start`` to ``end``, its forward value above and its gradient below (``side``: both
    to the right of a vertical wire)."""
    ax.annotate("", xy=end, xytext=start, zorder=1,
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.0, "shrinkA": 0, "shrinkB": 14})
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    if side:
        ax.text(mx + 0.15, my + 0.1, forward, color=FORWARD, fontsize=8.5, ha="left", va="bottom")
        ax.text(mx + 0.15, my - 0.1, backward, color=BACKWARD, fontsize=8.5, ha="left", va="top")
        return
    ax.text(mx, my + 0.12, forward, color=FORWARD, fontsize=8.5, ha="center", va="bottom")
    ax.text(mx, my - 0.12, backward, color=BACKWARD, fontsize=8.5, ha="center", va="top")


def spread_figure(result: Any) -> Any:
    """Per function and input row: the predictions of every seed (dots), our seed 0 and the report's value.

    ``result`` is a ``ReproduceResult`` with many-seed statistics.
    """
    from matplotlib.figure import Figure

    items = [item for item in result.functions if item.stats is not None]
    fig = Figure(figsize=(7.4, 2.9), layout="constrained")
    axes = fig.subplots(1, len(items), sharey=True)
    rng = np.random.default_rng(0)  # the dots' horizontal jitter only
    for ax, item in zip(np.atleast_1d(axes), items, strict=True):
        p = item.stats.predictions  # (R, 4)
        reference = item.config.reference.predicted
        for row in range(p.shape[1]):
            ax.scatter(row + rng.uniform(-0.28, 0.28, p.shape[0]), p[:, row], s=2, color="#9aa5b1", alpha=0.5,
                       lw=0, label="1000 seeds" if row == 0 else None)
            ax.plot([row - 0.34, row + 0.34], [item.predictions[row]] * 2, color=POSITIVE, lw=2,
                    label="ours, seed 0" if row == 0 else None)
            if reference is not None:
                ax.plot(row, reference[row], marker="D", color="black", ms=5, ls="none",
                        label="the report" if row == 0 else None)
        ax.axhline(0.5, color="#666666", lw=0.6, ls=":")
        ax.set_xticks(range(p.shape[1]), ["00", "01", "10", "11"])
        ax.set_title(item.config.title, fontsize=10)
        ax.set_xlabel("input", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("predicted probability")
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="center left", markerscale=2)
    return fig
