"""Logic functions as data sets: the report's truth tables and n-input parity.

The report trains on the four rows of a two-input truth table (AND, OR, XOR);
``logic_table`` returns exactly those rows, inputs in binary counting order
``00, 01, 10, 11``. ``parity`` generalises XOR to ``n`` inputs, the classic hard
case for a perceptron (Minsky & Papert 1969; Rumelhart, Hinton & Williams 1986).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_positive_int

#: Two-input Boolean functions by name: output for inputs (a, b) as arrays of 0/1.
GATES = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "xor": lambda a, b: a ^ b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xnor": lambda a, b: 1 - (a ^ b),
}


def _all_inputs(n: int) -> np.ndarray:
    """Every binary input of ``n`` bits in counting order: ``(2**n, n)`` int64, most significant bit first."""
    codes = np.arange(2**n)[:, None]  # (2**n, 1)
    return (codes >> np.arange(n - 1, -1, -1)) & 1  # (2**n, n)


def logic_table(name: str, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input gate.

    Parameters
    ----------
    name : {"and", "or", "xor", "nand", "nor", "xnor"}
        Case-insensitive.
    dtype : str, default "float64"

    Returns
    -------
    X : ndarray, ``(4, 2)``
        Inputs ``[[0, 0], [0, 1], [1, 0], [1, 1]]``.
    y : ndarray, ``(4,)``
        Targets in ``{0, 1}``.

    Examples
    --------
    >>> X, y = logic_table("xor")
    >>> y.tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    key = check_choice("name", name.lower() if isinstance(name, str) else name, GATES)
    bits = _all_inputs(2)
    y = GATES[key](bits[:, 0], bits[:, 1])
    return bits.astype(dtype), y.astype(dtype)


def parity(n: int, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-input parity function: 1 when an odd number of inputs are 1.

    Parameters
    ----------
    n : int
        Number of inputs, 1 to 20 (the table has ``2**n`` rows).

    Returns
    -------
    X : ndarray, ``(2**n, n)``
    y : ndarray, ``(2**n,)``

    Examples
    --------
    >>> from backproplab.data import parity
    >>> X, y = parity(3)
    >>> X[5].tolist(), float(y[5])  # 101: two ones, even
    ([1.0, 0.0, 1.0], 0.0)
    """
    n = check_positive_int("n", n)
    if n > 20:
        raise ValueError(f"n must be at most 20 (the table has 2**n rows), got {n}")
    bits = _all_inputs(n)
    return bits.astype(dtype), (bits.sum(axis=1) % 2).astype(dtype)
