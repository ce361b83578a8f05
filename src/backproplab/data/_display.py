"""Notebook display of a ``Dataset`` (see ``core._html``): its splits, classes and preprocessing."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import _html


def dataset_html(ds: Any) -> str:
    """One row per split (rows, and the rows of each class for a classification set), then the features."""
    splits = [("train", ds.y_train), ("validation", ds.y_val), ("test", ds.y_test)]
    classes = list(range(ds.n_classes)) if ds.n_classes and ds.n_classes <= 12 else []
    rows = []
    for name, y in splits:
        counts = [int(np.sum(np.asarray(y) == c)) for c in classes]
        rows.append([name, len(y), *counts])
    header = ["split", "rows", *(f"class {c}" for c in classes)]
    kind = f"{ds.n_classes} classes" if ds.n_classes else "regression"
    scaled = "standardised with the training part's mean and std" if ds.mean is not None else "not standardised"
    return _html.box(f"Dataset {ds.name!r}: {ds.n_features} features, {kind}",
                     _html.table(header, rows, numeric=[False] + [True] * (len(header) - 1)),
                     _html.escape(f"inputs {scaled}"))
