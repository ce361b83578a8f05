"""Every public name the API reference documents has an ``Examples`` section that runs as a doctest.

The names are the ones ``docs/_ext/backproplab_api.py`` hands the API reference (plain Python: this runs
in the normal suite, without the ``docs`` extra). A class or function needs a NumPy-style ``Examples``
section in its *own* docstring (not one inherited from a base class) that ``doctest`` finds when it
searches the module defining it, which is what ``--doctest-modules`` (pyproject.toml) runs. A constant
has no docstring: the ``Examples`` of its module's docstring must use it.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
from backproplab_api import API_MODULES, public_names

_HEADING = re.compile(r"^[ \t]*Examples[ \t]*\n[ \t]*-{8,}[ \t]*$", re.M)


def missing_examples(modules: dict[str, types.ModuleType]) -> list[str]:
    """``module.name`` of every public name of ``modules`` whose docstring examples are missing or never run."""
    found: dict[str, dict[str, doctest.DocTest]] = {}

    def _doctest_of(module: types.ModuleType, name: str) -> doctest.DocTest | None:
        """The doctest ``doctest`` collects from ``module`` under ``name`` (None: none, or one without examples)."""
        if module.__name__ not in found:
            found[module.__name__] = {t.name: t for t in doctest.DocTestFinder().find(module) if t.examples}
        return found[module.__name__].get(name)

    missing = []
    for module_name, module in modules.items():
        for name in public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                home = sys.modules[obj.__module__]
                test = _doctest_of(home, f"{home.__name__}.{obj.__qualname__}")
                ok = test is not None and bool(_HEADING.search(obj.__doc__ or ""))
            else:  # a constant: shown by its module's examples
                test = _doctest_of(module, module_name)
                ok = test is not None and bool(_HEADING.search(module.__doc__ or "")) and any(
                    re.search(rf"\b{re.escape(name)}\b", example.source) for example in test.examples)
            if not ok:
                missing.append(f"{module_name}.{name}")
    return missing


def _api_modules() -> dict[str, types.ModuleType]:
    """The API modules that import here (as the root conftest.py, a module whose optional package is missing
    is left out: its doctests cannot run either)."""
    modules = {}
    for name in API_MODULES:
        try:
            modules[name] = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not exc.name or exc.name.split(".")[0] == "backproplab":
                raise
    return modules


def test_every_public_name_has_examples_that_run():
    modules = _api_modules()
    assert "backproplab" in modules and "backproplab.data" in modules
    missing = missing_examples(modules)
    assert missing == [], f"public names without an Examples section that runs: {', '.join(missing)}"


def _fake_module(source: str) -> types.ModuleType:
    module = types.ModuleType("fake_api")
    sys.modules[module.__name__] = module
    exec(compile(source, "<fake_api>", "exec"), module.__dict__)
    return module


def test_the_check_catches_missing_inherited_and_unrun_examples():
    module = _fake_module('''
__all__ = ["Base", "Child", "documented", "bare", "prose", "LIMIT"]
LIMIT = 3

class Base:
    """A base.

    Examples
    --------
    >>> Base() is not None
    True
    """

class Child(Base):
    """Inherits Base's examples, has none of its own."""

def documented():
    """Two.

    Examples
    --------
    >>> documented()
    2
    """
    return 2

def bare():
    """No examples."""

def prose():
    """Examples
    --------
    Written as prose, nothing runs.
    """
''')
    module.__doc__ = "A module."
    try:
        assert missing_examples({"fake_api": module}) == ["fake_api.Child", "fake_api.bare", "fake_api.prose",
                                                          "fake_api.LIMIT"]
        module.__doc__ = "A module.\n\nExamples\n--------\n>>> LIMIT\n3\n"
        assert "fake_api.LIMIT" not in missing_examples({"fake_api": module})
    finally:
        del sys.modules["fake_api"]
