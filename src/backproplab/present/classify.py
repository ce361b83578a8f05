"""Results of a run on a split data set: accuracy per part, per-class precision and recall, confusion matrix.

``backproplab train`` writes these for every data set except the logic tables
(whose result is the report's table of predicted probabilities). With a runs
axis, accuracies are given per run and as their mean; the confusion matrix and
the per-class figures pool the test predictions of all runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.metrics import accuracy, confusion_matrix, precision_recall
from ..experiments.build import Trained
from .table import Table


def results(trained: Trained) -> dict[str, Any]:
    """Accuracy of each part (train, val, test), the pooled confusion matrix and per-class precision/recall.

    Those are measured on the test part; with no test part (``test = 0``) on the
    validation part, else on the training rows; ``"part"`` names it.
    """
    ds = trained.dataset
    if ds is None:
        raise ValueError("results needs a run on a split data set (not a logic table)")
    k = max(ds.n_classes, 2)
    out: dict[str, Any] = {"accuracy": {}}
    for part in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{part}"), getattr(ds, f"y_{part}")
        if len(y):
            out["accuracy"][part] = accuracy(y, trained.net.predict(X))  # float or (R,)
    # The test part, or the last part held out when there is none (test = 0: val, else the training rows).
    part = next(p for p in ("test", "val", "train") if len(getattr(ds, f"y_{p}")) or p == "train")
    X, y = getattr(ds, f"X_{part}"), getattr(ds, f"y_{part}")
    out["part"] = part
    pred = trained.net.predict(X)  # (B,) or (R, B)
    cm = confusion_matrix(y, pred, n_classes=k)
    out["confusion_matrix"] = cm if cm.ndim == 2 else cm.sum(axis=0)  # pooled over runs
    precision, recall = precision_recall(y, pred, n_classes=k)
    out["precision"] = precision if precision.ndim == 1 else precision.mean(axis=0)
    out["recall"] = recall if recall.ndim == 1 else recall.mean(axis=0)
    return out


def accuracy_table(trained: Trained, res: dict[str, Any]) -> Table:
    """One row per part: rows, accuracy (mean over runs, and min-max with runs)."""
    ds = trained.dataset
    rows = []
    for part, acc in res["accuracy"].items():
        n = len(getattr(ds, f"y_{part}"))
        acc = np.atleast_1d(acc)
        rows.append([part, n, float(acc.mean()), float(acc.min()), float(acc.max())])
    runs = "" if trained.net.runs is None else f" over {trained.net.runs} runs"
    return Table("accuracy", f"{trained.config.title or trained.config.name}: accuracy{runs}",
                 ["part", "rows", "accuracy", "min", "max"], rows, ["", "", ".4f", ".4f", ".4f"])


def per_class_table(trained: Trained, res: dict[str, Any]) -> Table:
    """Precision and recall of each class on the test part (or ``res["part"]``), means over runs."""
    part = res.get("part", "test")
    support = np.bincount(getattr(trained.dataset, f"y_{part}"), minlength=len(res["precision"]))
    rows = [[c, int(support[c]), float(p), float(r)] for c, (p, r) in enumerate(zip(res["precision"], res["recall"],
                                                                                      strict=True))]
    return Table("per_class", f"{trained.config.title or trained.config.name}: {part} precision and recall per class",
                 ["class", f"{part} rows", "precision", "recall"], rows, ["", "", ".4f", ".4f"])
