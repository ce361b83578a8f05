"""Accuracy of backproplab against scikit-learn's MLPClassifier: Iris, digits, MNIST-1D.

Both libraries get the same splits (``backproplab.data.load(name, seed=s)``: a seeded,
stratified split, standardised with the training statistics), the same architecture
(ReLU hidden layers, softmax output, cross-entropy), the same initial weights AND biases
(backproplab's are overwritten with scikit-learn's own draws for that seed, see
``sklearn_initial_params``), the same optimizer (Adam with the same learning rate and batch
size, no L2 penalty) and the same epoch budget — sklearn's tolerance-based stopping is
switched off so that both run every epoch. Each row is the mean ± standard deviation of
the test accuracy over the seeds. A second backproplab row starts from its own
initialisation (``glorot_uniform`` weights, zero biases); for MNIST-1D a last row trains
the shipped preset (``configs/mnist1d.toml``: dropout and a cosine schedule).

Before the table, a lockstep check trains seed 0 of each data set in both libraries from
the same start, in scikit-learn's batch order and with scikit-learn's form of Adam (its
epsilon is added to the uncorrected ``sqrt(v)``), and prints how far the two loss curves
and final parameters differ: rounding only (about 1e-15) says that the two implement the
same algorithm, so any accuracy gap in the table is the seeds' doing.

Run on demand (about six minutes on one core)::

    python benchmarks/eval_sklearn.py            # 10 seeds per data set
    python benchmarks/eval_sklearn.py --seeds 3 --only iris digits

BLAS runs on one thread for both libraries: small matrix products gain nothing from
threads, and on a loaded machine competing thread pools slow them down many times over.
"""

from __future__ import annotations

import argparse
import time
import warnings
from functools import partial
from itertools import pairwise

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils import shuffle as sklearn_shuffle
from threadpoolctl import threadpool_limits

import backproplab as bp
from backproplab.config import load_config
from backproplab.data import load
from backproplab.experiments.build import train
from backproplab.metrics import accuracy
from backproplab.optim import Adam

#: The shared recipe per data set: hidden widths, learning rate, batch size, epochs, default number of seeds
#: (Iris tests on 24 rows, where one row is 4 points of accuracy; on MNIST-1D the seed alone moves the test
#: accuracy by about 0.01, so 3 seeds cannot resolve a one-point gap).
RECIPES = {
    "iris": {"hidden": (16,), "lr": 0.01, "batch_size": 16, "epochs": 200, "seeds": 10},
    "digits": {"hidden": (64,), "lr": 0.003, "batch_size": 32, "epochs": 60, "seeds": 10},
    "mnist1d": {"hidden": (256, 256), "lr": 0.002, "batch_size": 100, "epochs": 100, "seeds": 10},
}


def sklearn_classifier(recipe, seed, *, shuffle=True):
    return MLPClassifier(hidden_layer_sizes=recipe["hidden"], activation="relu", solver="adam", alpha=0.0,
                         batch_size=recipe["batch_size"], learning_rate_init=recipe["lr"], max_iter=recipe["epochs"],
                         shuffle=shuffle, random_state=seed, tol=0.0, n_iter_no_change=recipe["epochs"] + 1)


def fit_sklearn(clf, ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it ran every epoch on purpose
        clf.fit(ds.X_train, ds.y_train)
    return clf


def sklearn_initial_params(sizes, seed):
    """scikit-learn's initial parameters for ``random_state=seed``, named like backproplab's, and its generator.

    ``MLPClassifier._init_coef`` draws, layer by layer from ``RandomState(seed)``, the weights and then
    the biases uniformly on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))`` for ReLU (the
    lockstep check confirms the copy). The generator is returned in the state scikit-learn's shuffling
    continues from.
    """
    rs = np.random.RandomState(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params[f"{2 * i}.W"] = rs.uniform(-limit, limit, (fan_in, fan_out))
        params[f"{2 * i}.b"] = rs.uniform(-limit, limit, fan_out)[None, :]  # backproplab's biases are (1, D_out)
    return params, rs


class SklearnAdam(Adam):
    """Adam as scikit-learn writes it, for the lockstep check only (backproplab's ``Adam`` is PyTorch's form).

    Both are Kingma & Ba's: backproplab divides by ``sqrt(v_hat) + eps`` (their Algorithm 1), scikit-learn
    folds the bias corrections into the step size and divides by ``sqrt(v) + eps`` (their Section 2
    variant), which amounts to an epsilon of ``eps / sqrt(1 - beta2**t)``, larger over the first steps::

        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        p = p - lr_t * m / (sqrt(v) + eps)
    """

    def update(self, name, p, g):
        m, v = self._buffer(name, "m", p), self._buffer(name, "v", p)
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * g * g
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        p -= lr_t * m / (np.sqrt(v) + self.eps)


def run_sklearn(ds, recipe, seed):
    return accuracy(ds.y_test, fit_sklearn(sklearn_classifier(recipe, seed), ds).predict(ds.X_test))


def backproplab_net(ds, recipe, seed, *, sklearn_start):
    sizes = [ds.n_features, *recipe["hidden"], ds.n_classes]
    net = bp.mlp(sizes, activation="relu", output="softmax", seed=seed, init="glorot_uniform")
    if sklearn_start:
        net.set_params(sklearn_initial_params(sizes, seed)[0])
    return net


def run_backproplab(ds, recipe, seed, *, sklearn_start=True):
    net = backproplab_net(ds, recipe, seed, sklearn_start=sklearn_start)
    bp.fit(net, ds.X_train, ds.y_train, optimizer=Adam(recipe["lr"]), epochs=recipe["epochs"],
           batch_size=recipe["batch_size"], seed=seed, progress=False)
    return accuracy(ds.y_test, net.predict(ds.X_test))


def lockstep(ds, recipe, seed):
    """Train both from scikit-learn's start, in its batch order, with its Adam: (loss gap, parameter gap, accuracies).

    The loss gap is the largest relative difference between the per-epoch training losses; the
    parameter gap the largest absolute difference between the final parameters.
    """
    clf = fit_sklearn(sklearn_classifier(recipe, seed), ds)
    sizes = [ds.n_features, *recipe["hidden"], ds.n_classes]
    net = backproplab_net(ds, recipe, seed, sklearn_start=False)
    params, rs = sklearn_initial_params(sizes, seed)
    net.set_params(params)
    optimizer, order, losses = SklearnAdam(recipe["lr"]), np.arange(len(ds.y_train)), []
    for _ in range(recipe["epochs"]):
        order = sklearn_shuffle(order, random_state=rs)  # scikit-learn reshuffles the previous epoch's order
        history = bp.fit(net, ds.X_train[order], ds.y_train[order], optimizer=optimizer, epochs=1,
                         batch_size=recipe["batch_size"], shuffle=False, progress=False)
        losses.append(history.loss[-1])
    theirs = np.array(clf.loss_curve_)
    loss_gap = np.max(np.abs(np.array(losses) - theirs) / theirs)
    final = [a for pair in zip(clf.coefs_, clf.intercepts_, strict=True) for a in pair]
    pairs = zip(net.params.values(), final, strict=True)
    param_gap = max(np.max(np.abs(mine.reshape(a.shape) - a)) for mine, a in pairs)
    return loss_gap, param_gap, accuracy(ds.y_test, clf.predict(ds.X_test)), accuracy(ds.y_test, net.predict(ds.X_test))


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
            gaps = lockstep(load(name, seed=0), recipe, 0)
            print(f"{name} seed 0 lockstep: training loss differs by at most {gaps[0]:.1e} (relative), final parameters"
                  f" by {gaps[1]:.1e}; test accuracy scikit-learn {gaps[2]:.4f}, backproplab {gaps[3]:.4f}", flush=True)
            contenders = {
                "scikit-learn MLPClassifier": run_sklearn,
                "backproplab, same recipe": run_backproplab,
                "backproplab, same recipe, own init (zero biases)": partial(run_backproplab, sklearn_start=False),
            }
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
