"""backproplab.sklearn against scikit-learn's own MLPClassifier, side by side, default parameters.

For every data set and solver (``adam``, ``sgd``, ``lbfgs``) both estimators are built with their
defaults (only ``solver`` and ``random_state`` set) and fitted on the same folds, one after the other
in one process, so that both see the same load on the machine:

- Iris, digits, wine and breast cancer, on raw features and standardised (a ``StandardScaler`` in a
  pipeline): 3-fold cross-validation (``cross_val_score(cv=3)``: stratified, unshuffled folds),
  ``random_state`` 0-4, accuracy averaged over the 15 fits;
- MNIST-1D: its generator's train/test split (4,000/1,000 rows, raw features), ``random_state`` 0-4;
- sparse input (issue 24): ``digits_csr`` (digits as a SciPy CSR matrix, 51 % zeros) and ``sparse_synthetic``
  (``make_classification``, 1,500 rows x 300 features, 3 classes, 80 % of the entries set to zero, CSR: a
  stand-in for a bag-of-words set, none of which is available offline), 3-fold as the tables. backproplab's
  stochastic solvers expand sparse input to a dense array; its ``lbfgs`` multiplies input with at most 25 %
  non-zero entries as the SciPy matrix, as scikit-learn's does (``backproplab.sklearn._objective``);
- float32 input (issue 24): ``digits_float32`` and ``breast_cancer_float32``, the tables cast to float32 (both
  libraries then train in float32; both ``lbfgs`` end with float64 coefficients, SciPy's final vector).

Each row gives both mean accuracies, their difference, the summed fit times and their ratio, and how
many of the 15 (or 5) fits predicted exactly the same labels. ``ConvergenceWarning`` is silenced
(scikit-learn's default ``max_iter=200`` often ends training; both warn alike). BLAS runs on one
thread for both: small matrix products gain nothing from threads, and on a loaded machine competing
thread pools slow them down many times over.

Run on demand (about 15 minutes on one idle core)::

    python benchmarks/eval_sklearn.py                  # everything: the table on stdout and in results/
    python benchmarks/eval_sklearn.py --only iris wine --solvers lbfgs   # stdout only (or --out FILE)

A complete run writes its table, with the machine's load, the versions and the cores it ran on,
to ``results/eval_sklearn.md`` (atomically); a partial one writes only where ``--out`` says.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse
import sklearn
from sklearn import neural_network as theirs
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import backproplab
from backproplab import sklearn as ours
from backproplab.data import mnist1d
from backproplab.files import io as bp_io

RESULTS = Path(__file__).resolve().parent / "results" / "eval_sklearn.md"
SEEDS = range(5)
SOLVERS = ("adam", "sgd", "lbfgs")
TABULAR = {"iris": load_iris, "digits": load_digits, "wine": load_wine, "breast_cancer": load_breast_cancer}


def sparse_synthetic(return_X_y=True):
    """A sparse classification set: make_classification with 80 % of its entries zeroed, as CSR."""
    X, y = make_classification(n_samples=1500, n_features=300, n_informative=30, n_classes=3, random_state=0)
    X[np.random.default_rng(0).random(X.shape) < 0.8] = 0.0
    return scipy.sparse.csr_matrix(X), y


#: The other inputs: how each is made from a loader (sparse or float32).
VARIANTS = {
    "digits_csr": lambda: (lambda X, y: (scipy.sparse.csr_matrix(X), y))(*load_digits(return_X_y=True)),
    "sparse_synthetic": sparse_synthetic,
    "digits_float32": lambda: (lambda X, y: (X.astype(np.float32), y))(*load_digits(return_X_y=True)),
    "breast_cancer_float32": lambda: (lambda X, y: (X.astype(np.float32), y))(*load_breast_cancer(return_X_y=True)),
}
#: Inputs a StandardScaler cannot centre (it would make them dense): raw features only.
SPARSE = ("digits_csr", "sparse_synthetic")


def splits(name):
    """``[(X_train, y_train, X_test, y_test), ...]``: the 3 folds of a table, or MNIST-1D's one split."""
    if name == "mnist1d":
        return [mnist1d()]
    X, y = VARIANTS[name]() if name in VARIANTS else TABULAR[name](return_X_y=True)
    return [(X[tr], y[tr], X[te], y[te]) for tr, te in StratifiedKFold(3).split(np.zeros(len(y)), y)]


def fit_and_score(model, fold):
    X_train, y_train, X_test, y_test = fold
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predicted = model.predict(X_test)
    return float(np.mean(predicted == y_test)), seconds, predicted


def compare(name, scaled, solver):
    """Both libraries on every fold and seed: accuracies, times and agreement, in one interleaved loop."""
    acc = {"sk": [], "bp": []}
    secs = {"sk": 0.0, "bp": 0.0}
    same = 0
    for seed in SEEDS:
        for fold in splits(name):
            predictions = {}
            for key, module in (("sk", theirs), ("bp", ours)):
                model = module.MLPClassifier(solver=solver, random_state=seed)
                model = make_pipeline(StandardScaler(), model) if scaled else model
                a, s, predictions[key] = fit_and_score(model, fold)
                acc[key].append(a)
                secs[key] += s
            same += bool(np.array_equal(predictions["sk"], predictions["bp"]))
    return acc, secs, same, len(acc["sk"])


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [*TABULAR, "mnist1d", *VARIANTS]
    parser.add_argument("--only", nargs="+", choices=names, default=names)
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--out", type=Path, default=None,
                        help=f"also write the table here (default for a complete run: {RESULTS})")
    args = parser.parse_args(argv)
    complete = args.only == names and list(args.solvers) == list(SOLVERS)
    out = args.out or (RESULTS if complete else None)
    lines = [f"start: {uptime()}",
             f"cores {sorted(os.sched_getaffinity(0))}, one BLAS thread; backproplab {backproplab.__version__}, "
             f"scikit-learn {sklearn.__version__}, SciPy {scipy.__version__}, NumPy {np.__version__}, "
             f"Python {platform.python_version()}",
             "command: python benchmarks/eval_sklearn.py " + " ".join(sys.argv[1:] if argv is None else argv), ""]
    print("\n".join(lines), flush=True)
    header = ("| data | features | solver | scikit-learn | backproplab | difference | same predictions "
              "| fit s scikit-learn | fit s backproplab | time ratio |")
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name in args.only:
            for scaled in ((False,) if name == "mnist1d" or name in SPARSE else (False, True)):
                for solver in args.solvers:
                    acc, secs, same, n = compare(name, scaled, solver)
                    sk, bp = np.mean(acc["sk"]), np.mean(acc["bp"])
                    row = (f"| {name} | {'standardised' if scaled else 'raw'} | {solver} | {sk:.4f} | {bp:.4f} | "
                           f"{bp - sk:+.4f} | {same}/{n} | {secs['sk']:.2f} | {secs['bp']:.2f} | "
                           f"{secs['bp'] / secs['sk']:.2f} |")
                    rows.append(row)
                    print(row, flush=True)
    lines += [f"end: {uptime()}", "", header, "|---|---|---|---|---|---|---|---|---|---|", *rows]
    print("\n".join(lines[-len(rows) - 4:]))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        bp_io.write_text(out, "\n".join(lines) + "\n")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
