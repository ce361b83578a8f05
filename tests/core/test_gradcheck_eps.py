"""gradcheck's step: one clear error or a correct, finite result for any eps (issue 20, item 13)."""

from __future__ import annotations

import math
import re
import warnings

import pytest

import backproplab as bp
from backproplab.cli import main
from backproplab.data import logic_table


@pytest.fixture
def xor():
    X, y = logic_table("xor")
    return bp.mlp([2, 8, 1], seed=0), X, y


@pytest.mark.parametrize(("eps", "extended"), [(1e-300, True), (1e-100, True), (1e-20, True), (1e-18, True),
                                               (1e-16, False), (1e-17, False)])
def test_a_step_lost_in_rounding_is_refused_naming_eps(xor, eps, extended):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning on the way to the error
        with pytest.raises(ValueError, match=rf"^eps={eps:g} is too small: a step below .* is lost in rounding"):
            bp.gradcheck(*xor, eps=eps, extended=extended)


@pytest.mark.parametrize("eps", [1e101, 1e300, 1.7e308])
def test_a_step_that_can_overflow_is_refused(xor, eps):
    with pytest.raises(ValueError, match=re.escape(f"eps={eps:g} is too large")):
        bp.gradcheck(*xor, eps=eps)


@pytest.mark.parametrize(("eps", "extended"), [(1e-17, True), (1e-14, False), (1e-12, True), (1e-7, False),
                                               (1e-4, True), (1.0, True), (1e10, False), (1e100, True)])
def test_every_accepted_step_gives_finite_errors_without_a_warning(xor, eps, extended):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = bp.gradcheck(*xor, eps=eps, extended=extended)
    assert all(math.isfinite(e) for e in result.errors.values()), result.errors
    assert result.passed == (1e-10 <= eps <= 1e-4)  # rounding below, truncation above: FAILED is the right word


def test_the_floor_follows_the_largest_weight(xor):
    net, X, y = xor
    net.params["0.W"][0, 0] = 1e6  # ulp(1e6) in extended precision is ~1e-13
    with pytest.raises(ValueError, match=r"the largest parameter, 1e\+06"):
        bp.gradcheck(net, X, y, eps=1e-14)


@pytest.mark.parametrize("eps", ["1e-300", "1e300"])
def test_the_command_says_it_with_the_flag_in_one_line(eps, capsys):
    assert main(["gradcheck", "xor", "--eps", eps, "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(f"backproplab gradcheck: error: --eps {float(eps):g} is too ")
    assert "never" not in err and "Warning" not in err and "a bug" not in err
