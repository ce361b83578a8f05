"""Doctest collection over ``src/backproplab`` (``--doctest-modules`` in pyproject.toml).

A module whose optional dependency is not installed (matplotlib for ``viz``, scikit-learn for
``backproplab.sklearn``, Starlette for the playground server, ...) cannot be imported, so its docstrings
cannot run: it is left out of the doctests instead of failing the collection. Any other import error
still fails.
"""

from __future__ import annotations

import importlib
from pathlib import Path

SRC = Path(__file__).resolve().parent / "src"


def pytest_ignore_collect(collection_path: Path, config: object) -> bool | None:
    if collection_path.suffix != ".py" or SRC not in collection_path.parents or collection_path.name == "__main__.py":
        return None  # __main__.py runs the CLI when imported; pytest's doctest collection never imports it
    parts = collection_path.relative_to(SRC).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] != "backproplab":  # an optional package, not ours
            return True
        raise
    return None
