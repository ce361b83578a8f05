"""A fixture that runs a test with one BLAS thread.

For the tests that train scikit-learn-sized networks (``tests/sklearn/test_*.py``, ``tests/sklearn/test_lbfgs.py``):
their matrices are small, and on a busy 2-core machine OpenBLAS's thread pool made a full-batch fit up to
20 times slower (scikit-learn's L-BFGS checks took 8 s instead of 0.4 s). The numbers do not change.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture
def one_blas_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield
