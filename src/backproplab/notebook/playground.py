"""``Playground``: the web playground as a notebook widget, training in the kernel.

The widget drives ``backproplab.web.session.Session``, the web playground's own
training session (the engine's ``fit``, a few epochs at a time, one optimizer
carried across calls). Its buttons (play, pause, step, reset) send a message to
the kernel; the kernel trains and sends back the frame: the network's weights,
the decision boundary and the loss curve, drawn by the web playground's
JavaScript (``web/static/common.js``) inside the widget's shadow root, so the
page's style sheet reaches nothing else of the notebook. The JavaScript ships in
the package and nothing is fetched: it works offline.

Play trains on a thread of the kernel, a chunk of epochs per frame (about 10
frames a second), so the notebook stays usable while it runs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from importlib import resources
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..errors import DivergenceError
from ..web.assets import inline_modules, read_static
from ..web.session import MAX_EPOCHS, Session, parse_settings

__all__ = ["Playground"]

#: Seconds of training per frame while playing (the web playground's pace).
FRAME_SECONDS = 0.1
#: Points of the loss curve sent to the page: a long run is thinned to these.
CURVE_POINTS = 400


def _module() -> str:
    """The widget's ES module: common.js's drawing, the page's styles for the shadow root, the widget."""
    style = read_static("style.css").replace(":root", ":host")  # custom properties on the shadow host
    widget = resources.files("backproplab.notebook").joinpath("static", "playground_widget.js").read_text("utf-8")
    return f"{inline_modules('common.js')}\nconst STYLE = {_js_string(style)};\n{widget}"


def _js_string(text: str) -> str:
    import json

    return json.dumps(text).replace("</", "<\\/")


class Playground(anywidget.AnyWidget):
    """The playground in a notebook: a network training live in the kernel, drawn in the cell.

    Parameters
    ----------
    data : str, default "xor"
        A logic function (``"xor"``, ``"and"``, ...) or a 2-D toy set (``"moons"``, ``"circles"``, ...).
    hidden : sequence of int, default (4,)
        Units per hidden layer (at most 4 layers of 64).
    activation, optimizer : str
        As in the web playground (``"tanh"``, ``"sgd"`` by default).
    lr : float, default 0.5
    batch_size : int, default 4
    seed : int, default 0
        Initial weights (and the toy set's points).

    Attributes
    ----------
    epoch : int
        Epochs trained so far (synced with the page).
    running : bool
        Whether play is on.
    session : Session
        The training session (its ``net``, ``X``, ``y``, ``losses``).

    Examples
    --------
    >>> from backproplab.notebook import Playground
    >>> pg = Playground(data="xor", hidden=[8])
    >>> pg.step(10).epoch
    10
    >>> pg.reset().epoch
    0
    """

    _esm = _module()
    snapshot = traitlets.Dict().tag(sync=True)
    frame = traitlets.Dict().tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, data: str = "xor", hidden: Any = (4,), activation: str = "tanh", optimizer: str = "sgd",
                 lr: float = 0.5, batch_size: int = 4, seed: int = 0) -> None:
        settings = parse_settings({"dataset": data, "hidden": list(hidden) if not isinstance(hidden, str) else hidden,
                                   "activation": activation, "optimizer": optimizer, "lr": lr,
                                   "batch_size": batch_size, "seed": seed})
        super().__init__()
        self.session = Session(settings)
        self._lock = threading.Lock()  # one advance at a time: the play thread and the buttons
        self._thread: threading.Thread | None = None
        self._chunk = 1
        self._publish(snapshot=True)
        self.on_msg(self._on_message)

    # --- what the buttons do ----------------------------------------------------------
    def step(self, epochs: int = 1) -> Playground:
        """Train ``epochs`` more epochs (one by default) and redraw; returns the widget."""
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
        with self._lock:
            self._advance(int(epochs))
        return self

    def reset(self) -> Playground:
        """Pause, and start again from the initial weights of the same settings; returns the widget."""
        self.pause()
        with self._lock:
            self.session = Session(self.session.settings)
            self.error = ""
            self._publish(snapshot=True)
        return self

    def play(self) -> Playground:
        """Train on a thread of the kernel, a frame about every 0.1 s, until ``pause``; returns the widget."""
        if self.running or self.session.done:
            return self
        self.running, self.error = True, ""
        self._thread = threading.Thread(target=self._run, name="backproplab-playground", daemon=True)
        self._thread.start()
        return self

    def pause(self) -> Playground:
        """Stop playing after the current frame; returns the widget."""
        self.running = False
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None
        return self

    @property
    def settings(self) -> dict[str, Any]:
        """The session's settings (data set, hidden sizes, activation, optimizer, lr, batch size, seed)."""
        return asdict(self.session.settings)

    # --- inside -----------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action in ("play", "pause", "step", "reset"):
            getattr(self, action)()

    def _run(self) -> None:
        while self.running:
            with self._lock:
                start = time.perf_counter()
                self._advance(self._chunk)
                elapsed = time.perf_counter() - start
            self._chunk = max(1, min(500, round(self._chunk * FRAME_SECONDS / max(elapsed, 1e-4))))
            if self.session.done:
                self.running = False
            time.sleep(0.02)  # let the buttons' messages in between frames

    def _advance(self, epochs: int) -> None:
        try:
            self.session.advance(epochs)
        except DivergenceError as exc:
            self.running, self.error = False, str(exc)
        self._publish()

    def _publish(self, snapshot: bool = False) -> None:
        session = self.session
        if snapshot:
            self.snapshot = {key: value for key, value in session.snapshot().items() if key not in ("frame", "losses")}
        losses = session.losses
        at = np.unique(np.linspace(0, len(losses) - 1, min(len(losses), CURVE_POINTS)).round().astype(int))
        curve = {"xs": [int(i) + 1 for i in at], "ys": [float(losses[i]) for i in at]}
        self.frame = {**session.frame(), "curve": curve, "max_epochs": MAX_EPOCHS}
        self.epoch = session.epoch
