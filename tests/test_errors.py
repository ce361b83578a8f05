"""One exception hierarchy: every exception class of the package lives in ``backproplab.errors``, one per name."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import backproplab
from backproplab import errors


def package_modules():
    for info in pkgutil.walk_packages(backproplab.__path__, "backproplab."):
        if info.name.endswith("__main__"):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # an optional dependency this machine lacks: its module cannot define anything here
            continue


def test_every_exception_class_lives_in_errors_and_each_name_once():
    homes: dict[str, set[str]] = {}
    for module in package_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__.startswith("backproplab"):
                homes.setdefault(cls.__name__, set()).add(cls.__module__)
    assert homes, "the walk found the package's exceptions"
    assert {name: where for name, where in homes.items() if where != {"backproplab.errors"}} == {}


@pytest.mark.parametrize("name", ["ConfigError", "DataFileError", "EngineError", "ModelFileError", "RunDirError",
                                  "RunMismatchError", "SweepDirError", "DivergenceError"])
def test_ours_are_backproplab_errors_and_the_builtin_a_caller_catches(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.BackproplabError)
    assert issubclass(cls, (ValueError, RuntimeError))


def test_one_divergence_error_for_fit_and_the_estimators():
    sklearn = pytest.importorskip("backproplab.sklearn")
    assert sklearn.DivergenceError is backproplab.DivergenceError is errors.DivergenceError
    assert issubclass(errors.DivergenceError, ValueError) and issubclass(errors.DivergenceError, ArithmeticError)
