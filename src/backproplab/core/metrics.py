"""Evaluation metrics, each computed per run.

Labels are integer class indices: ``y_true`` is ``(B,)`` (shared by all runs)
or ``(R, B)``; ``y_pred`` is ``(B,)`` or ``(R, B)``, e.g. ``net.predict(X)``. A
metric returns one value (or one array) for a single network and a leading
``R`` axis when either input has one, so ``accuracy(y, net.predict(X))[r]`` is
run ``r``'s accuracy. Conventions follow scikit-learn: confusion-matrix rows are
true classes and columns predicted ones; a precision or recall whose
denominator is zero (a class never predicted, or absent) is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_float_array, check_positive_int


def _labels(name: str, y: Any) -> np.ndarray:
    arr = as_float_array(name, y)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be labels (B,) or per-run labels (R, B), got shape {arr.shape}")
    if not np.all(arr == np.round(arr)) or arr.min() < 0:
        raise ValueError(f"{name} must hold non-negative integer class labels")
    return arr.astype(np.intp)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels("y_true", y_true), _labels("y_pred", y_pred)
    if t.shape[-1] != p.shape[-1]:
        raise ValueError(f"y_true has {t.shape[-1]} samples but y_pred has {p.shape[-1]}")
    if t.ndim == p.ndim == 2 and t.shape[0] != p.shape[0]:
        raise ValueError(f"y_true has {t.shape[0]} runs but y_pred has {p.shape[0]}")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float | np.ndarray:
    """Share of samples whose predicted label equals the true one: a float, or ``(R,)``.

    Examples
    --------
    >>> from backproplab.core.metrics import accuracy
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    >>> accuracy([0, 1], [[0, 1], [1, 1]])  # two runs: one accuracy each
    array([1. , 0.5])
    """
    t, p = _pair(y_true, y_pred)
    out = (t == p).mean(axis=-1)
    return float(out) if out.ndim == 0 else out


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like, ``(B,)`` or ``(R, B)``
    n_classes : int, optional
        ``K``; default: one more than the largest label seen.

    Returns
    -------
    ndarray of int64, ``(K, K)`` or ``(R, K, K)``

    Examples
    --------
    >>> from backproplab.core.metrics import confusion_matrix
    >>> confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0])
    array([[1, 1, 0],
           [0, 1, 0],
           [1, 0, 1]])
    """
    t, p = _pair(y_true, y_pred)
    k = int(max(t.max(), p.max())) + 1 if n_classes is None else check_positive_int("n_classes", n_classes)
    if t.max() >= k or p.max() >= k:
        raise ValueError(f"labels must be below n_classes={k}; found {int(max(t.max(), p.max()))}")
    t, p = np.broadcast_arrays(t, p)
    flat = t * k + p  # (R, B): the cell of each sample
    if flat.ndim == 1:
        return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)
    offsets = np.arange(flat.shape[0])[:, None] * k * k  # one block of K*K cells per run
    counts = np.bincount((flat + offsets).ravel(), minlength=flat.shape[0] * k * k)
    return counts.reshape(flat.shape[0], k, k).astype(np.int64)


def precision_recall(
    y_true: Any, y_pred: Any, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision ``TP / (TP + FP)`` and recall ``TP / (TP + FN)``.

    Returns
    -------
    precision, recall : ndarray, ``(K,)`` or ``(R, K)``
        0 where the denominator is 0 (scikit-learn's ``zero_division=0``).

    Examples
    --------
    >>> from backproplab.core.metrics import precision_recall
    >>> precision, recall = precision_recall([0, 0, 1, 1], [0, 1, 1, 1])
    >>> precision, recall
    (array([1.        , 0.66666667]), array([0.5, 1. ]))
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diagonal(cm, axis1=-2, axis2=-1).astype(np.float64)  # (R, K)
    predicted = cm.sum(axis=-2)  # column sums: (R, K)
    actual = cm.sum(axis=-1)  # row sums: (R, K)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    return precision, recall


def f1_score(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Per-class harmonic mean of precision and recall, ``(K,)`` or ``(R, K)`` (0 where both are 0).

    Examples
    --------
    >>> from backproplab.core.metrics import f1_score
    >>> f1_score([0, 0, 1, 1], [0, 1, 1, 1])
    array([0.66666667, 0.8       ])
    """
    p, r = precision_recall(y_true, y_pred, n_classes)
    return np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)


def r2_score(y_true: Any, y_pred: Any) -> float | np.ndarray:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs.

    Parameters
    ----------
    y_true : array-like, ``(B,)``, ``(B, K)`` or ``(R, B, K)``
    y_pred : array-like, ``(B,)``, ``(B, K)`` or ``(R, B, K)`` (e.g. ``net.predict(X)``)

    Returns
    -------
    float, or ``(R,)`` with a runs axis. An output whose targets are constant
    scores 1 if predicted exactly and 0 otherwise (scikit-learn's convention).

    Examples
    --------
    >>> from backproplab.core.metrics import r2_score
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    >>> r2_score([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])  # no better than the mean
    0.0
    """
    t, p = as_float_array("y_true", y_true), as_float_array("y_pred", y_pred)
    t = t[:, None] if t.ndim == 1 else t  # (B, K)
    p = p[:, None] if p.ndim == 1 else p
    if t.shape[-2:] != p.shape[-2:] or t.ndim > 3 or p.ndim > 3:
        shapes = f"y_true {np.shape(y_true)} and y_pred {np.shape(y_pred)}"
        raise ValueError(f"{shapes} must be (B,), (B, K) or (R, B, K) alike")
    ss_res = ((t - p) ** 2).sum(axis=-2)  # (R, K)
    ss_tot = ((t - t.mean(axis=-2, keepdims=True)) ** 2).sum(axis=-2)  # (R, K) or (K,)
    ss_tot = np.broadcast_to(ss_tot, ss_res.shape)
    perfect = np.where(ss_res == 0, 1.0, 0.0)
    score = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), perfect)
    out = score.mean(axis=-1)
    return float(out) if out.ndim == 0 else out
