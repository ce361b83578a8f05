"""``explore``: the explorer page of a run, shown inline in a notebook.

The page is the same self-contained HTML that ``backproplab explore`` writes
(``backproplab.web.explorer``). In a notebook it sits in an ``<iframe srcdoc>``
with ``sandbox="allow-scripts"``: its scripts run (sliders, play, hover) but in an
origin of their own, so its styles cannot reach the notebook and it can reach
neither the notebook's page nor the network (the page loads nothing anyway).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..core import _html
from ..train.recording import Recorder, Recording
from ..web.explorer import explorer_html, write_explorer
from ..web.runs import record_run

__all__ = ["Explorer", "explore"]


class Explorer:
    """The explorer of one recording, displayed in a sandboxed iframe; ``save`` writes the page.

    Parameters
    ----------
    recording : Recording
    title : str, optional
        Shown on the page (default: the recording's title).
    height : int, default 900
        Height of the iframe in pixels.
    """

    def __init__(self, recording: Recording, title: str | None = None, height: int = 900) -> None:
        if not isinstance(recording, Recording):
            raise TypeError(f"recording must be a backproplab Recording, got {type(recording).__name__}")
        if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 10_000:
            raise ValueError(f"height must be a whole number of pixels from 100 to 10000, got {height!r}")
        self.recording, self.title, self.height = recording, title, height

    @property
    def html(self) -> str:
        """The explorer page, as one HTML string."""
        return explorer_html(self.recording, self.title)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` atomically (it opens from disk, offline); returns the path."""
        return write_explorer(self.recording, path, self.title)

    def _repr_html_(self) -> str:
        def render() -> str:
            return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                    f'title="backproplab explorer" style="width:100%;height:{self.height}px;border:1px solid #ddd">'
                    "</iframe>")

        return _html.safe(render, self)

    def __repr__(self) -> str:
        return f"Explorer({self.recording!r})"


def explore(source: Recorder | Recording | str | os.PathLike, *, title: str | None = None,
            height: int = 900) -> Explorer:
    """The explorer of a run, for a notebook: ``display`` it (or leave it last in a cell), or ``save`` it.

    Parameters
    ----------
    source : Recorder, Recording or path
        A ``Recorder`` that a ``fit`` has filled, its ``Recording``, a recording file
        (``.npz``, ``Recording.save``) or a run directory of ``backproplab train``
        (re-trained with a recorder and checked against its ``model.npz``).
    title : str, optional
    height : int, default 900
        Height of the iframe in pixels.

    Examples
    --------
    >>> import backproplab as bp
    >>> from backproplab.data import logic_table
    >>> X, y = logic_table("xor")
    >>> recorder = bp.Recorder(X, y)
    >>> _ = bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, epochs=200, progress=False, callbacks=[recorder])
    >>> page = bp.explore(recorder)
    >>> page._repr_html_().startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    True
    """
    if isinstance(source, Recorder):
        if source.recording is None:
            raise ValueError("source is a Recorder that has recorded nothing yet: pass it to "
                             "fit(..., callbacks=[recorder]) first")
        recording = source.recording
    elif isinstance(source, Recording):
        recording = source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file():
            recording = Recording.load(path)
        elif (path / "config.toml").is_file():
            recording = record_run(path)
        else:
            raise FileNotFoundError(f"source {str(path)!r} is neither a recording file nor a run directory "
                                    "(a folder with config.toml)")
    else:
        raise TypeError(f"source must be a Recorder, a Recording or a path, got {type(source).__name__}")
    return Explorer(recording, title, height)
