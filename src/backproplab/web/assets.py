"""The package's static web files, and inlining its JavaScript modules into one script.

The front end is plain ES modules (no build step): the playground server serves
them as they are; the explorer, which must open from disk where browsers refuse
module imports across files, gets them concatenated into one ``<script
type="module">``. The modules keep to a form that makes this safe: imports are
single lines ``import { a, b } from "./name.js";`` of sibling files, exports are
``export`` in front of a top-level declaration, and top-level names are unique
across files.
"""

from __future__ import annotations

import re
from importlib import resources

#: The files the package ships and the playground serves; nothing else is ever read or served.
STATIC_FILES = ("common.js", "explorer.js", "playground.js", "style.css", "explorer.html", "playground.html")

_IMPORT = re.compile(r'^import\s*\{[^}]*\}\s*from\s*"\./([\w.-]+\.js)";\s*$', re.MULTILINE)
_EXPORT = re.compile(r"^export\s+(?=(async\s+)?(function|const|let|class)\b)", re.MULTILINE)


def read_static(name: str) -> str:
    """Text of the static file ``name`` (one of ``STATIC_FILES``)."""
    if name not in STATIC_FILES:
        raise ValueError(f"unknown static file {name!r}; known: {', '.join(STATIC_FILES)}")
    return resources.files("backproplab.web").joinpath("static", name).read_text(encoding="utf-8")


def inline_modules(entry: str) -> str:
    """``entry`` and the modules it imports (depth first, each once) as one script's text."""
    seen: list[str] = []

    def visit(name: str) -> None:
        if name in seen:
            return
        source = read_static(name)
        for dependency in _IMPORT.findall(source):
            visit(dependency)
        seen.append(name)

    visit(entry)
    parts = []
    for name in seen:
        source = _EXPORT.sub("", _IMPORT.sub("", read_static(name)))
        parts.append(f"// ---- {name} ----\n{source}")
    return "\n".join(parts)
