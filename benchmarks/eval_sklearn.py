"""Accuracy of backproplab against scikit-learn's MLPClassifier: Iris, digits, MNIST-1D.

Both libraries get the same splits (``backproplab.data.load(name, seed=s)``: a seeded,
stratified split, standardised with the training statistics), the same architecture
(ReLU hidden layers, softmax output, cross-entropy), the same initialisation (scikit-learn's
uniform Glorot bound for ReLU is backproplab's ``glorot_uniform``; scikit-learn also draws
the biases from it, backproplab starts them at zero), the same optimizer (Adam with the
same learning rate and batch size, no L2 penalty) and the same epoch budget — sklearn's
tolerance-based stopping is switched off so that both run every epoch. Each row is the
mean ± standard deviation of the test accuracy over the seeds. For MNIST-1D a third row
trains the shipped preset (``configs/mnist1d.toml``: dropout and a cosine schedule).

Run on demand (a few minutes on two cores)::

    python benchmarks/eval_sklearn.py            # 10 seeds for Iris and digits, 3 for MNIST-1D
    python benchmarks/eval_sklearn.py --seeds 5 --only iris digits

BLAS runs on one thread for both libraries: small matrix products gain nothing from
threads, and on a loaded machine competing thread pools slow them down many times over.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import backproplab as bp
from backproplab.config import load_config
from backproplab.data import load
from backproplab.experiments.build import train
from backproplab.metrics import accuracy
from backproplab.optim import Adam

#: The shared recipe per data set: hidden widths, learning rate, batch size, epochs, default number of seeds
#: (Iris tests on 24 rows, where one row is 4 points of accuracy: it needs many seeds to say anything).
RECIPES = {
    "iris": {"hidden": (16,), "lr": 0.01, "batch_size": 16, "epochs": 200, "seeds": 10},
    "digits": {"hidden": (64,), "lr": 0.003, "batch_size": 32, "epochs": 60, "seeds": 10},
    "mnist1d": {"hidden": (256, 256), "lr": 0.002, "batch_size": 100, "epochs": 100, "seeds": 3},
}


def run_sklearn(ds, recipe, seed):
    clf = MLPClassifier(hidden_layer_sizes=recipe["hidden"], activation="relu", solver="adam", alpha=0.0,
                        batch_size=recipe["batch_size"], learning_rate_init=recipe["lr"], max_iter=recipe["epochs"],
                        shuffle=True, random_state=seed, tol=0.0, n_iter_no_change=recipe["epochs"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it ran every epoch on purpose
        clf.fit(ds.X_train, ds.y_train)
    return accuracy(ds.y_test, clf.predict(ds.X_test))


def run_backproplab(ds, recipe, seed):
    net = bp.mlp([ds.n_features, *recipe["hidden"], ds.n_classes], activation="relu", output="softmax", seed=seed,
                 init="glorot_uniform")
    bp.fit(net, ds.X_train, ds.y_train, optimizer=Adam(recipe["lr"]), epochs=recipe["epochs"],
           batch_size=recipe["batch_size"], seed=seed, progress=False)
    return accuracy(ds.y_test, net.predict(ds.X_test))


def run_preset(ds, config, seed):
    """Train the shipped preset exactly as ``backproplab train mnist1d --seed S`` does (same split)."""
    trained = train(config, seed=seed)
    assert np.array_equal(trained.dataset.X_test, ds.X_test) and np.array_equal(trained.dataset.X_train, ds.X_train)
    return accuracy(ds.y_test, trained.net.predict(ds.X_test))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds 0 .. N-1 (split, initial weights, shuffling); default: per data set")
    parser.add_argument("--only", nargs="+", choices=sorted(RECIPES), default=list(RECIPES))
    args = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        for name in args.only:
            recipe = RECIPES[name]
            contenders = {"scikit-learn MLPClassifier": run_sklearn, "backproplab, same recipe": run_backproplab}
            epochs = dict.fromkeys(contenders, recipe["epochs"])
            if name == "mnist1d":
                preset = load_config("mnist1d")
                contenders["backproplab, shipped preset"] = lambda ds, _, s, c=preset: run_preset(ds, c, s)
                epochs["backproplab, shipped preset"] = preset.training.epochs
            scores = {label: [] for label in contenders}
            seconds = dict.fromkeys(contenders, 0.0)
            for seed in range(args.seeds or recipe["seeds"]):
                ds = load(name, seed=seed)
                for label, run in contenders.items():
                    start = time.perf_counter()
                    scores[label].append(run(ds, recipe, seed))
                    seconds[label] += time.perf_counter() - start
                    print(f"{name} seed {seed} {label}: {scores[label][-1]:.4f}", flush=True)
            shape = "-".join(map(str, (ds.n_features, *recipe["hidden"], ds.n_classes)))
            for label in contenders:
                s = np.array(scores[label])
                rows.append((name, f"{len(ds.y_train)}/{len(ds.y_val)}/{len(ds.y_test)}", shape, epochs[label],
                             label, f"{s.mean():.4f} ± {s.std():.4f}", f"{s.min():.4f}", f"{seconds[label]:.1f}"))
    print()
    print("| data | train/val/test | network | epochs | model | test accuracy (mean ± sd) | min | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
