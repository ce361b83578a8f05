"""Two-dimensional toy sets, generated from a seed: moons, circles, spirals, Gaussian blobs.

Each returns ``X`` ``(n_samples, 2)`` float64 and integer labels ``y``
``(n_samples,)``, the classes as equal in size as ``n_samples`` allows and the
rows in class order (``split`` shuffles them). ``noise`` is the standard
deviation of Gaussian noise added to the points (for blobs: the spread of each
blob). The generators follow scikit-learn's ``make_moons``/``make_circles``/
``make_blobs`` and CS231n's spirals, written in NumPy so the core never needs
scikit-learn.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_positive_float, check_positive_int


def _class_sizes(n_samples: int, n_classes: int) -> list[int]:
    """``n_samples`` split into ``n_classes`` sizes differing by at most one."""
    base, extra = divmod(n_samples, n_classes)
    return [base + (c < extra) for c in range(n_classes)]


def _check(n_samples: int, noise: float, seed: int, minimum: int = 2) -> np.random.Generator:
    check_positive_int("n_samples", n_samples, minimum=minimum)
    check_positive_float("noise", noise, allow_zero=True)
    return np.random.default_rng(check_positive_int("seed", seed, minimum=0))


def moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (class 0 on top, class 1 shifted below and right).

    Examples
    --------
    >>> from backproplab.data import moons
    >>> X, y = moons(n_samples=100, noise=0.1, seed=0)
    >>> X.shape, y.shape, sorted(set(y.tolist()))
    ((100, 2), (100,), [0, 1])
    """
    rng = _check(n_samples, noise, seed)
    n0, n1 = _class_sizes(n_samples, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])  # (n0, 2)
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])  # (n1, 2)
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    return X, np.repeat([0, 1], [n0, n1])


def circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle (class 0) around a smaller one of radius ``factor`` (class 1).

    Examples
    --------
    >>> from backproplab.data import circles
    >>> X, y = circles(n_samples=50, seed=1)
    >>> X.shape, int(y.sum())
    ((50, 2), 25)
    """
    rng = _check(n_samples, noise, seed)
    factor = check_positive_float("factor", factor)
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), got {factor}")
    n0, n1 = _class_sizes(n_samples, 2)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.vstack([outer, inner]) + noise * rng.standard_normal((n_samples, 2))
    return X, np.repeat([0, 1], [n0, n1])


def spirals(
    n_samples: int = 300, noise: float = 0.2, n_classes: int = 3, turns: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` arms winding out from the origin, each ``turns`` revolutions long (CS231n's set).

    Noise perturbs the angle (in radians), so arms blur into each other as it grows.

    Examples
    --------
    >>> from backproplab.data import spirals
    >>> X, y = spirals(n_samples=300, n_classes=3, seed=0)
    >>> X.shape, [int((y == c).sum()) for c in range(3)]
    ((300, 2), [100, 100, 100])
    """
    n_classes = check_positive_int("n_classes", n_classes, minimum=2)
    rng = _check(n_samples, noise, seed, minimum=n_classes)
    turns = check_positive_float("turns", turns)
    Xs, ys = [], []
    for c, n in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, n)  # radius grows along the arm
        t = 2 * np.pi * (turns * r + c / n_classes) + noise * rng.standard_normal(n)
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(n, c))
    return np.vstack(Xs), np.concatenate(ys)


def blobs(
    n_samples: int = 300, centers: int = 3, noise: float = 1.0, seed: int = 0, box: float = 5.0
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs of standard deviation ``noise`` around centres drawn uniformly in ``[-box, box]**2``.

    Examples
    --------
    >>> from backproplab.data import blobs
    >>> X, y = blobs(n_samples=90, centers=3, seed=0)
    >>> X.shape, [int((y == c).sum()) for c in range(3)]
    ((90, 2), [30, 30, 30])
    """
    centers = check_positive_int("centers", centers)
    rng = _check(n_samples, noise, seed, minimum=centers)
    box = check_positive_float("box", box)
    middles = rng.uniform(-box, box, (centers, 2))  # (C, 2)
    sizes = _class_sizes(n_samples, centers)
    y = np.repeat(np.arange(centers), sizes)
    return middles[y] + noise * rng.standard_normal((n_samples, 2)), y


#: Toy generators by name.
TOY = {"moons": moons, "circles": circles, "spirals": spirals, "blobs": blobs}
