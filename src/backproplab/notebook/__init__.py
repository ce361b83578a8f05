"""The notebook face: the explorer inline, the playground as a widget, a live loss plot.

- ``explore(recorder | recording | run_dir)``: the explorer page in a sandboxed
  ``<iframe srcdoc>`` (interactive, offline, its styles kept inside), ``.save(path)``;
- ``Playground(data="xor", hidden=[8], ...)``: an anywidget driving the web
  playground's training session in the kernel (``pip install "backproplab[notebook]"``);
- ``LivePlot``: a ``fit`` callback redrawing the loss in place (``fit(..., live=N)``).

Every other object of the package displays itself (``_repr_html_`` on its own floor);
progress bars and figures show in a kernel without setup. Importing this package
imports neither IPython nor anywidget: the widget class is loaded on first use.
"""

from __future__ import annotations

from typing import Any

from ..train.live import LivePlot
from .explore import Explorer, explore

__all__ = ["Explorer", "LivePlot", "Playground", "explore"]


def __getattr__(name: str) -> Any:
    # The widget needs anywidget (the notebook extra): imported when first asked for.
    if name == "Playground":
        from .playground import Playground

        return Playground
    raise AttributeError(f"module 'backproplab.notebook' has no attribute {name!r}")
