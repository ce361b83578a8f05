"""Validation at the edges: turn user input into clean arrays or fail with a clear message.

Every public entry point (constructors, ``fit``, ``gradcheck``, loaders) calls
these before any work starts, so a user sees one line naming the argument and
the problem instead of a traceback from deep inside NumPy. The hot loops trust
their input and check nothing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

FLOAT_DTYPES = ("float32", "float64")


def check_dtype(dtype: Any) -> np.dtype:
    """Return ``dtype`` as a NumPy float dtype, or raise naming the allowed ones."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}") from exc
    if dt.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {FLOAT_DTYPES}, got {dt.name!r}")
    return dt


def check_choice(name: str, value: Any, known: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``known`` names, else raise listing them."""
    known = sorted(known)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {known}; got {value!r}")
    if value not in known:
        raise ValueError(f"unknown {name} {value!r}; known: {', '.join(known)}")
    return value


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), and not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (int or float, Python's or NumPy's), and not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_seed(seed: Any) -> int | list[int]:
    """Return ``seed`` as a non-negative int, or a non-empty sequence of them as a list (one per run)."""
    if is_int(seed):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return int(seed)
    if isinstance(seed, (str, bytes)) or not isinstance(seed, (Sequence, np.ndarray)):  # b"1" would be [49]
        raise TypeError(f"seed must be a non-negative int or a sequence of them, got {seed!r}")
    if not len(seed):
        raise ValueError(f"seed must be a non-negative int or a non-empty sequence of them, got {seed!r}")
    for i, s in enumerate(seed):
        if not (is_int(s) and s >= 0):
            raise ValueError(f"seed must be a non-negative int or a non-empty sequence of them; seed[{i}] is {s!r}")
    return [int(s) for s in seed]


def renamed(function: str, new: str, value: Any, default: Any, old: str, old_value: Any) -> Any:
    """The value of keyword ``new`` of ``function``, or of its earlier name ``old`` with a ``DeprecationWarning``.

    ``old_value`` is None when the earlier name was not given. Giving both names is a
    ``TypeError``. The earlier name keeps working for one release.
    """
    if old_value is None:
        return value
    if value is not default and value != default:
        raise TypeError(f"{function} takes {new} or its earlier name {old}, not both")
    warnings.warn(f"{function}({old}=...) is now {function}({new}=...): the name says what it seeds; "
                  f"{old}= will stop working in the next release", DeprecationWarning, stacklevel=3)
    return old_value


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (NumPy's too); a flag given as ``"no"`` or ``None`` is a mistake."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_positive_float(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is finite and > 0 (or >= 0)."""
    if not is_number(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def as_float_array(name: str, value: Any, dtype: np.dtype | str = "float64") -> np.ndarray:
    """Convert ``value`` to a finite, non-empty float array of ``dtype``.

    Raises
    ------
    TypeError
        If ``value`` is not numeric (strings, objects, complex numbers).
    ValueError
        If it is ragged, empty, or holds NaN or infinity.
    """
    arr = _as_numeric(name, value)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one sample")
    arr = arr.astype(dtype, copy=False)
    if not _all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or infinity (first at index {tuple(int(i) for i in bad)})")
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    """Whether every entry of a float array is finite, reading it once where it can.

    The sum of squares (one BLAS dot product over contiguous data) is finite only
    if every entry is: NaN and infinity reach it, and its terms are never negative,
    so no inf - inf hides one. A sum that overflows only sends the data to the
    exact test, min and max, which also propagate NaN and reach +-inf. Both
    allocate nothing (``isfinite(arr).all()`` would hold a boolean copy of the
    data). On B3's 60,000 x 784 float32 inputs, which ``fit`` checks at every
    call: 11.6 ms against 24.8 ms for min and max (one core, 2026-12-05, load 1).
    """
    if arr.flags.c_contiguous or arr.flags.f_contiguous:  # pragma: no mutate (the exact test below decides)
        flat = arr.ravel(order="K")  # a view of contiguous data
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow here is no error of the data
            if np.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def _as_numeric(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # NumPy refuses ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array; got a ragged sequence") from exc
    if arr.dtype == object:
        raise TypeError(f"{name} must be numeric; got an array of Python objects (ragged or mixed types?)")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    return arr
