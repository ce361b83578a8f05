"""Shared pieces of the hostile-input suite: malformed values, and the one rule every entry point obeys.

The rule: given anything, a public entry point either works or raises one of
the documented error types (``ValueError``, ``TypeError``, ``FileNotFoundError``
or a ``BackproplabError``) with a message; never an ``IndexError`` from deep
inside NumPy, an ``AttributeError`` or a silent wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from backproplab import BackproplabError

DOCUMENTED = (ValueError, TypeError, FileNotFoundError, BackproplabError)


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; return its result, or the documented error it raised (after checking it has a message)."""
    try:
        return fn(*args, **kwargs)
    except DOCUMENTED as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} raised without a message"
        return exc


def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """Call ``fn`` with input it must refuse; return the documented error."""
    result = outcome(fn, *args, **kwargs)
    assert isinstance(result, DOCUMENTED), f"accepted hostile input and returned {type(result).__name__}"
    return result


# --- malformed arrays ------------------------------------------------------------------------
def _planted(rows: int, where: int, value: float) -> np.ndarray:
    a = np.ones((rows, 2))
    a.flat[where % a.size] = value
    return a


def _with(value: float) -> st.SearchStrategy[np.ndarray]:
    """A well-shaped (B, 2) float array with ``value`` planted somewhere."""
    return st.builds(_planted, st.integers(1, 6), st.integers(0, 11), st.just(value))


#: Values that no array argument may accept, with what is wrong with them.
BAD_ARRAYS: st.SearchStrategy[Any] = st.one_of(
    _with(np.nan),
    _with(np.inf),
    _with(-np.inf),
    st.just(np.empty((0, 2))),
    st.just(np.empty((3, 0))),
    st.just([]),
    st.just([[]]),
    st.just([[1.0, 2.0], [3.0]]),  # ragged
    st.just([[1.0, [2.0]], [3.0, 4.0]]),  # nested ragged
    st.just(np.array([[1, None], [2, 3]], dtype=object)),
    st.just(np.array([["a", "b"], ["c", "d"]])),
    st.just([["0.5", "1"], ["1", "0"]]),
    st.just(np.ones((2, 2), dtype=complex)),
    st.just(np.array([[2**70, 1]], dtype=object)),
    st.just(np.array([[b"x", b"y"]])),
    st.just(np.zeros((2, 2), dtype="datetime64[s]")),
    st.just(None),
    st.just("X"),
    st.just({"a": 1}),
    st.just(object()),
    st.just(np.float64(1.0)),  # a scalar: no samples axis
)

#: Values of the wrong shape for a (B, 2)-input network (finite, numeric).
WRONG_SHAPES: st.SearchStrategy[np.ndarray] = st.one_of(
    st.just(np.ones(2)),
    st.just(np.ones((4, 3))),
    st.just(np.ones((4, 1))),
    st.just(np.ones((2, 4, 2))),  # runs axis on a network without one
    st.just(np.ones((1, 1, 4, 2))),
    st.lists(st.integers(1, 3), min_size=3, max_size=5).map(lambda shape: np.ones(shape)),
)

#: Numeric but extreme values: they may be trained on (or diverge, with a DivergenceError), never crash.
HUGE = st.sampled_from([1e308, -1e308, 1e200, 5e-324, np.finfo(np.float64).max, 1e38])

#: Values no numeric hyper-parameter accepts (0 and None are valid for some: see ZERO and NONE).
BAD_SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from([np.nan, np.inf, -np.inf, -1, -1.5, "1", [1], True, 1 + 2j, b"1", object()]),
    st.floats(max_value=-1e-9),
    st.integers(max_value=-1),
)


def bad_scalars(zero: bool = False, none: bool = False) -> st.SearchStrategy[Any]:
    """``BAD_SCALARS``, plus 0 and None where those are invalid too."""
    extra = [v for v, bad in ((0, zero), (None, none)) if bad]
    return st.one_of(BAD_SCALARS, st.sampled_from(extra)) if extra else BAD_SCALARS
