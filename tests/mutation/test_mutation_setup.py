"""Inside ``mutmut run`` the tests must exercise the mutated copy, not a source tree on PYTHONPATH.

mutmut copies ``src/`` to ``mutants/src/``, rewrites the core's functions there and puts that
directory first on ``sys.path``. A ``PYTHONPATH`` or an editable install pointing at a source
tree could still win if ``backproplab`` were imported before that; every mutant would then
"survive". This test fails the whole run in that case (mutmut's clean run must pass).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import backproplab


def test_under_mutmut_the_package_is_the_mutated_copy():
    if "MUTANT_UNDER_TEST" not in os.environ:
        pytest.skip("only meaningful inside `mutmut run`")
    assert "mutants" in Path(backproplab.__file__).resolve().parts, backproplab.__file__
