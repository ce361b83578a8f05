"""Web faces of backproplab: the explorer (a self-contained HTML file) and the playground (a local server).

The explorer needs only NumPy; the playground needs the ``web`` extra
(``pip install "backproplab[web]"``: Starlette and uvicorn), imported only when
it starts.
"""

from .explorer import explorer_html, write_explorer

__all__ = ["explorer_html", "write_explorer"]
