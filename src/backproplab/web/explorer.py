"""The explorer: one self-contained HTML file that replays a recorded run.

The page is built from the package's static files (``web/static``): the HTML
skeleton, the stylesheet and the JavaScript modules are inlined, and the
recording is embedded as JSON with its arrays packed as base64 (float32, and
the decision-boundary lattice as uint8), so the file opens from disk, offline,
with no server and no network access.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..files.io import write_text
from ..train.recording import Recording, health_flags
from .assets import inline_modules, read_static

#: Format of the JSON embedded in the page; the page refuses other versions.
DATA_VERSION = 1


def pack(array: np.ndarray, dtype: str = "f4") -> dict[str, Any]:
    """An array as ``{"shape", "dtype", "b64"}``: little-endian bytes, base64 (JavaScript typed arrays read them)."""
    a = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"shape": list(a.shape), "dtype": dtype, "b64": base64.b64encode(a.tobytes()).decode("ascii")}


def quantize(p: np.ndarray) -> np.ndarray:
    """Probabilities in ``[0, 1]`` as uint8 ``0..255`` (the eye cannot tell more shades apart)."""
    return np.clip(np.rint(np.asarray(p) * 255), 0, 255).astype(np.uint8)


def explorer_data(recording: Recording) -> dict[str, Any]:
    """The JSON-ready payload the page reads: metadata, frame epochs, packed arrays, health flags."""
    arrays: dict[str, Any] = {}
    for name, value in recording.arrays.items():
        if name == "grid":
            arrays[name] = pack(quantize(value), "u1")
        else:
            arrays[name] = pack(value, "f4")
    flags = health_flags(recording.arrays["grad_norm"], recording.arrays["update_ratio"])
    arrays["health_flags"] = pack(flags, "i1")
    data = {
        "version": DATA_VERSION,
        "meta": _finite(recording.meta),
        "epochs": [int(e) for e in recording.epochs],
        "arrays": arrays,
    }
    landscape = landscape_panel(recording)
    if landscape is not None:
        arrays["landscape_loss"], arrays["landscape_path"] = pack(landscape[0]), pack(landscape[1])
        data["landscape"] = landscape[2]
    return data


#: The landscape panel's grid (LANDSCAPE_STEPS^2 points) and the most work it may take:
#: points x rows x parameters, about a second on a laptop.
LANDSCAPE_STEPS, LANDSCAPE_WORK = 41, 2e9


def landscape_panel(recording: Recording) -> tuple[np.ndarray, np.ndarray, dict[str, Any]] | None:
    """The loss on the PCA plane of the recorded path ``(S, S)``, the path on it ``(F, 2)`` and the axes.

    None (no panel) for a recording whose network cannot be rebuilt (batch norm) or
    whose plane would cost more than ``LANDSCAPE_WORK``.
    """
    from ..landscape import Trajectory

    try:
        path = Trajectory.from_recording(recording)
    except (ValueError, KeyError):
        return None
    if LANDSCAPE_STEPS**2 * len(path.X) * path.points.shape[1] > LANDSCAPE_WORK or len(path.epochs) < 2:
        return None
    surface, coords, explained, path_loss = path.pca_plane(steps=LANDSCAPE_STEPS)
    axes = {"span": float(surface.alphas[-1]), "explained": [float(v) for v in explained],
            "true_loss": [float(v) for v in path_loss.true], "plane_loss": [float(v) for v in path_loss.on_plane]}
    return surface.loss, coords, _finite(axes)


def _finite(value: Any) -> Any:
    """JSON has no NaN: replace non-finite floats in metadata by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _script_safe(text: str) -> str:
    """Text that cannot close the ``<script>`` element it is embedded in."""
    return re.sub(r"</", r"<\\/", text)


def explorer_html(recording: Recording, title: str | None = None) -> str:
    """The explorer page for ``recording``, as one HTML string."""
    if not isinstance(recording, Recording):
        raise TypeError(f"recording must be a backproplab Recording, got {type(recording).__name__}")
    data = json.dumps(explorer_data(recording), separators=(",", ":"), allow_nan=False)
    title = title or recording.meta.get("title") or "backproplab explorer"
    page = read_static("explorer.html")
    replacements = {
        "__TITLE__": _html_escape(title),
        "/*__CSS__*/": read_static("style.css"),
        "/*__JS__*/": _script_safe(inline_modules("explorer.js")),
        "__DATA__": _script_safe(data),
    }
    page = page.replace("__TITLE__", replacements.pop("__TITLE__"))  # in <title> and <h1>
    for key, value in replacements.items():
        page = page.replace(key, value, 1)  # once: the data must not be searched for placeholders
    return page


def write_explorer(recording: Recording, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write the explorer page for ``recording`` to ``path`` atomically; returns the path."""
    path = Path(path)
    write_text(path, explorer_html(recording, title))
    return path


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
