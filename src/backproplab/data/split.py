"""A data set ready to train: seeded train/validation/test split and standardisation fitted on train.

Standardisation statistics come from the training part only, so nothing about
the validation or test rows leaks into the model (the usual reason a test score
flatters). The split is stratified for classification: each class is cut in
the same proportions, so a small set like Iris keeps every class in every part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import as_float_array, check_positive_float, check_positive_int
from ..core import _html
from ._display import dataset_html


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test arrays of one data set.

    ``X_*`` are ``(n, D)`` float arrays (standardised if ``mean`` is set);
    ``y_*`` are integer labels ``(n,)`` for classification (``n_classes`` set)
    or float targets for regression (``n_classes`` is None). ``mean`` and
    ``std`` ``(D,)`` are the training part's, to standardise new inputs the
    same way: ``(X - mean) / std``.

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab import data
    >>> ds = data.load("moons", n_samples=100, val=0.2, test=0.2, seed=0)
    >>> ds
    Dataset('moons', train=60, val=20, test=20, features=2, classes=2)
    >>> bool(np.allclose(ds.X_train.mean(axis=0), 0)), bool(np.allclose(ds.X_train.std(axis=0), 1))
    (True, True)
    >>> ds.transform(ds.mean[None, :])  # the training mean is the new origin
    array([[0., 0.]])
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    def transform(self, X: Any) -> np.ndarray:
        """Standardise new inputs with the training statistics (identity if none were fitted)."""
        X = as_float_array("X", X)
        return X if self.mean is None else (X - self.mean) / self.std

    def _repr_html_(self) -> str:
        """Jupyter's display: rows per split (and per class), features, preprocessing."""
        return _html.safe(lambda: dataset_html(self), self)

    def __repr__(self) -> str:
        parts = f"train={len(self.y_train)}, val={len(self.y_val)}, test={len(self.y_test)}"
        return f"Dataset({self.name!r}, {parts}, features={self.n_features}, classes={self.n_classes})"


def split_indices(
    n: int, *, val: float, test: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded disjoint index sets ``(train, val, test)`` covering ``range(n)``, stratified by ``labels`` if given."""
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    parts: list[list[np.ndarray]] = [[], [], []]
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_val = round(test * len(idx)), round(val * len(idx))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    # Shuffle across classes so that the parts are not sorted by label.
    train, val_idx, test_idx = (rng.permutation(np.concatenate(p)) for p in parts)
    return train, val_idx, test_idx


def standardize_fit(X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation of the training rows (a constant feature gets std 1)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def split(
    X: Any,
    y: Any,
    *,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    classification: bool = True,
    standardize: bool = True,
    name: str = "data",
    test_set: tuple[Any, Any] | None = None,
) -> Dataset:
    """Split ``(X, y)`` into train/validation/test parts and standardise them with the training statistics.

    Parameters
    ----------
    X : array-like, ``(n, D)``
    y : array-like, ``(n,)``
        Integer labels (``classification=True``) or regression targets.
    val, test : float, default 0.15
        Shares of the rows held out, each in ``[0, 1)``, together below 1.
    seed : int, default 0
        Seed of the permutation: same seed, same parts.
    classification : bool, default True
        Stratify by label and count the classes.
    standardize : bool, default True
    name : str
    test_set : (X_test, y_test), optional
        An official test set: then ``test`` must be 0 and only the validation
        part is cut from ``(X, y)``.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> import numpy as np
    >>> from backproplab.data import split
    >>> X, y = np.arange(40.0).reshape(20, 2), np.repeat([0, 1], 10)
    >>> ds = split(X, y, val=0.2, test=0.2, seed=0)
    >>> len(ds.y_train), len(ds.y_val), len(ds.y_test)
    (12, 4, 4)
    >>> bool(abs(ds.X_train.mean()) < 1e-12)  # standardised with the training part's statistics
    True
    """
    X = as_float_array("X", X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must be 1-D with one entry per row of X ({X.shape[0]}), got shape {y.shape}")
    val = check_positive_float("val", val, allow_zero=True)
    test = check_positive_float("test", test, allow_zero=True)
    if val + test >= 1:
        raise ValueError(f"val + test must be below 1, got val={val}, test={test}")
    if test_set is not None and test:
        raise ValueError("pass test=0 with an official test_set; the test part is not cut from X")
    seed = check_positive_int("seed", seed, minimum=0)
    if classification:
        as_float_array("y", y)
        if not np.all(y == np.round(y)) or y.min() < 0:
            raise ValueError("y must hold non-negative integer class labels for classification")
        y = y.astype(np.int64)
    else:
        y = as_float_array("y", y)
    labels = y if classification else None
    train, val_idx, test_idx = split_indices(len(y), val=val, test=test, seed=seed, labels=labels)
    if test_set is not None:
        X_test, y_test = as_float_array("X_test", test_set[0]), np.asarray(test_set[1]).astype(y.dtype)
    else:
        X_test, y_test = X[test_idx], y[test_idx]
    X_train, X_val = X[train], X[val_idx]
    mean = std = None
    if standardize:
        mean, std = standardize_fit(X_train)
        X_train, X_val, X_test = ((part - mean) / std for part in (X_train, X_val, X_test))
    n_classes = int(max(y.max(), y_test.max() if len(y_test) else 0)) + 1 if classification else None
    return Dataset(
        name=name, X_train=X_train, y_train=y[train], X_val=X_val, y_val=y[val_idx], X_test=X_test, y_test=y_test,
        n_classes=n_classes, mean=mean, std=std, info={"seed": seed, "val": val, "test": test},
    )
