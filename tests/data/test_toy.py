"""2-D toy sets: shapes, balance, seeding, noise, and the geometry that defines each."""

from __future__ import annotations

import numpy as np
import pytest

from backproplab.data import TOY, blobs, circles, moons, spirals


@pytest.mark.parametrize("name", sorted(TOY))
@pytest.mark.parametrize("n", [7, 100])
def test_shapes_balance_and_seeding(name, n):
    X, y = TOY[name](n_samples=n, seed=3)
    assert X.shape == (n, 2) and y.shape == (n,) and X.dtype == np.float64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    X2, y2 = TOY[name](n_samples=n, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, TOY[name](n_samples=n, seed=4)[0])


def test_noise_free_geometry():
    X, y = circles(200, noise=0.0, factor=0.3)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    X, y = moons(200, noise=0.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)  # upper moon: unit half circle
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
    X, y = spirals(300, noise=0.0, n_classes=3)
    assert np.linalg.norm(X, axis=1).max() == pytest.approx(1.0)


def test_noise_grows_spread():
    X0, y = blobs(600, centers=2, noise=0.1, seed=1)
    X1, _ = blobs(600, centers=2, noise=1.0, seed=1)
    spread = [np.mean([X[y == c].std(axis=0).mean() for c in (0, 1)]) for X in (X0, X1)]
    assert spread[0] == pytest.approx(0.1, rel=0.15) and spread[1] == pytest.approx(1.0, rel=0.15)


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: moons(1), "n_samples"), (lambda: circles(noise=-1), "noise"), (lambda: circles(factor=1.5), "factor"),
     (lambda: spirals(n_classes=1), "n_classes"), (lambda: blobs(seed=-1), "seed")],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
