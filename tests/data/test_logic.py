"""Truth tables and parity, checked against Python's own bit operators."""

from __future__ import annotations

import operator

import numpy as np
import pytest

from backproplab.data import logic_table, parity

REFERENCE = {
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xnor": lambda a, b: 1 - (a ^ b),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_logic_table_rows_match_the_operator(name):
    X, y = logic_table(name.upper())
    assert X.shape == (4, 2) and y.shape == (4,)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    for (a, b), target in zip(X.astype(int), y, strict=True):
        assert target == REFERENCE[name](int(a), int(b))


def test_logic_table_rejects_unknown_gate():
    with pytest.raises(ValueError, match="implies"):
        logic_table("implies")


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_parity_counts_ones(n):
    X, y = parity(n)
    assert X.shape == (2**n, n)
    assert len({tuple(r) for r in X.tolist()}) == 2**n  # every input once
    np.testing.assert_array_equal(y, X.sum(axis=1) % 2)


def test_parity_two_inputs_is_xor():
    np.testing.assert_array_equal(parity(2)[1], logic_table("xor")[1])


@pytest.mark.parametrize("bad", [0, -1, 21, 2.5])
def test_parity_rejects_bad_n(bad):
    with pytest.raises((ValueError, TypeError), match="n must"):
        parity(bad)
