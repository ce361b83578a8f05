"""Notebook displays: small pure-string HTML helpers, and the renderers of the core's own classes.

Jupyter shows an object's ``_repr_html_`` inside the notebook's page, so what it
returns must stay inside its own element: every style here is an inline
``style=""`` attribute (no ``<style>`` element, no class the notebook could
share), nothing is loaded from anywhere, and a display never raises (``safe``
falls back to the object's escaped ``repr``). Higher floors (History and
Recording in ``train/``, Trace in ``explain/``, Dataset in ``data/``, the sweep
table in ``sweeps/``) build their displays from the same helpers.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .layers import ACTIVATIONS

#: Inline styles, kept few so every display looks like the others (and like a pandas table beside them).
_BOX = "font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;max-width:100%;overflow-x:auto"
_TABLE = "border-collapse:collapse;margin:4px 0"
_CELL = "padding:2px 10px;border-bottom:1px solid #ddd;text-align:{align};font-variant-numeric:tabular-nums"
_HEAD = "padding:2px 10px;border-bottom:2px solid #999;text-align:{align};font-weight:600"
#: Colours of a verdict (pass, fail) and of a drawn curve and band.
GOOD, BAD, LINE, BAND = "#1a7f37", "#cf222e", "#1f77b4", "#aecbe8"


def escape(value: Any) -> str:
    """``str(value)`` with ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


def number(x: Any, digits: int = 4) -> str:
    """A number as a table shows it: integers whole, floats to ``digits`` significant digits."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{digits}g}"
    return str(x)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[bool] | None = None,
          raw: bool = False) -> str:
    """An HTML table; ``numeric[j]`` right-aligns column ``j``; ``raw`` cells are HTML already (else escaped)."""
    numeric = list(numeric) if numeric is not None else [False] * len(header)

    def cell(tag: str, style: str, j: int, value: Any) -> str:
        text = value if raw else escape(value)
        return f'<{tag} style="{style.format(align="right" if numeric[j] else "left")}">{text}</{tag}>'

    head = "".join(cell("th", _HEAD, j, h) for j, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", _CELL, j, v) for j, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def box(title: str, *parts: str) -> str:
    """A titled block: ``title`` (escaped) in bold, then the ``parts`` (HTML) one under another."""
    return f'<div style="{_BOX}"><div style="font-weight:600;margin-bottom:2px">{escape(title)}</div>' + "".join(
        f"<div>{part}</div>" for part in parts) + "</div>"


def verdict(passed: bool, text: str) -> str:
    """``text`` (escaped) in bold, green when ``passed``, red otherwise."""
    return f'<span style="font-weight:600;color:{GOOD if passed else BAD}">{escape(text)}</span>'


def curve(values: np.ndarray, *, width: int = 320, height: int = 90, label: str = "loss", points: int = 200) -> str:
    """An inline SVG of a curve against its index: ``values`` ``(E,)``, or ``(E, R)`` drawn as a median with a
    band from the smallest to the largest run. At most ``points`` points are drawn, so the size stays small."""
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v.reshape(v.shape[0], -1)  # (E, R)
    e = v.shape[0]
    if e == 0 or not np.isfinite(v).any():
        return f'<span style="color:#666">no finite {escape(label)} to draw</span>'
    at = np.unique(np.linspace(0, e - 1, min(e, points)).round().astype(int))  # (P,) rows drawn
    with np.errstate(all="ignore"), warnings.catch_warnings():  # runs that diverged are NaN: the others are drawn
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, mid, hi = np.nanmin(v[at], axis=1), np.nanmedian(v[at], axis=1), np.nanmax(v[at], axis=1)
    finite = np.isfinite(mid)
    bottom, top = float(np.nanmin(lo)), float(np.nanmax(hi))
    span = top - bottom or 1.0
    pad = 4

    def xy(y: np.ndarray) -> list[str]:
        xs = pad + (width - 2 * pad) * at / max(e - 1, 1)
        ys = pad + (height - 2 * pad) * (top - y) / span
        return [f"{x:.1f},{y:.1f}" for x, y, ok in zip(xs, ys, finite, strict=True) if ok]

    band = ""
    if v.shape[1] > 1:
        outline = xy(hi) + xy(lo)[::-1]
        band = f'<polygon points="{" ".join(outline)}" fill="{BAND}" stroke="none"/>'
    line = f'<polyline points="{" ".join(xy(mid))}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'
    title = f"{label}: {number(top)} to {number(bottom)} over {e} epochs" + (
        f", median and range of {v.shape[1]} runs" if v.shape[1] > 1 else "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'style="background:#fafafa;border:1px solid #eee"><title>{escape(title)}</title>{band}{line}</svg>')


def safe(render: Callable[[], str], obj: Any) -> str:
    """``render()``, or, if it raises, the escaped ``repr(obj)`` in a ``<pre>``: a display never raises."""
    try:
        return render()
    except Exception:
        try:
            text = repr(obj)
        except Exception:
            text = f"<{type(obj).__name__} object>"
        return f"<pre>{escape(text)}</pre>"


# --- the core's classes ------------------------------------------------------------------
def network_html(net: Any) -> str:
    """``Network``'s display: one row per layer (kind, output shape, parameters, activation), the total, the runs."""
    rows, units = [], net.n_inputs
    batch = "R, B" if net.runs else "B"
    for i, layer in enumerate(net.layers):
        kind = type(layer).__name__
        units = getattr(layer, "fan_out", units)
        count = sum(p[0].size if net.runs else p.size for p in layer.params.values())
        activation = next((name for name, cls in ACTIVATIONS.items() if type(layer) is cls), "")
        rows.append([i, kind, f"({batch}, {units})", count, activation])
    rows.append(["", "output", f"({batch}, {net.n_outputs})", "", f"{net.output} (predict_proba)"])
    runs = f"; {net.runs} runs stacked on a leading axis, each with its own parameters" if net.runs else ""
    total = f"{number(net.n_params)} parameters per network{runs}; dtype {net.dtype.name}"
    sizes = "-".join(str(s) for s in [net.n_inputs, *(lay.fan_out for lay in net.layers if hasattr(lay, "fan_out"))])
    return box(f"Network {sizes}", table(["#", "layer", "output shape", "parameters", "activation"], rows,
                                         numeric=[True, False, False, True, False]), escape(total))


def gradcheck_html(result: Any) -> str:
    """``GradcheckResult``'s display: the verdict with its rule, then one row per parameter array and mode."""
    modes = len(result.modes) > 1
    rows = []
    for d in result.details:
        rows.append([d.name, *([d.mode] if modes else []), f"{d.error:.2e}", f"{d.max_abs_error:.2e}", d.checked,
                     d.kinks, d.failed])
    header = ["parameter", *(["mode"] if modes else []), "relative error", "max |a - n|", "checked", "at a kink",
              "failed"]
    numeric = [False, *([False] if modes else []), True, True, True, True, True]
    return box("Gradient check (backprop vs. central differences)", verdict(result.passed, result.summary()),
               table(header, rows, numeric=numeric), escape(f"eps = {result.eps:g}"))
