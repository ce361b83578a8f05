"""Why do XOR seeds fail? Each failed seed's last point, classified by its gradient and Hessian.

The report's setting (sigmoid, binary cross-entropy, He initialisation, SGD lr
0.1 on the whole table, the shipped ``xor`` config) trains 2-2-1 for 4000
epochs and 2-8-1 for 2000 epochs, ``seeds`` seeds at once on the runs axis. A
seed *fails* when some row of the truth table is on the wrong side of 0.5. At
each failed seed's last epoch the study takes the full-batch gradient norm
``||g||`` and the exact Hessian's extreme eigenvalues (one runs-axis
``hessian`` for all failed seeds) and classifies the point:

- **still moving**: ``||g|| >= GRAD_TOL``. Gradient descent has not stopped;
  one more epoch moves the weights by ``lr * ||g||``;
- **saddle**: ``||g|| < GRAD_TOL`` and ``lambda_min < -NEG_TOL``: near-stationary,
  with a direction of descent;
- **minimum or plateau**: ``||g|| < GRAD_TOL`` and ``lambda_min >= -NEG_TOL``.

``NEG_TOL`` (1e-6) is a thousand times the Hessian's finite-difference error, so
a negative eigenvalue is real. For points whose Hessian is positive definite
the study also gives the distance to the minimum of the local quadratic model,
``||H^-1 g||``: a minimum far beyond the weights' own size is one "at infinity".

For 2-2-1, Sprinkhuizen-Kuyper & Boers (1999, *The error surface of the 2-2-1
XOR network: the finite stationary points*, Neural Networks 11) proved that
every finite stationary point of the quadratic-error network is a saddle and
that its local minima lie at infinity (saturated units); ``compare`` says what
the binary cross-entropy network of the report shows.

Run the whole study with ``python -m backproplab.landscape.study --out DIR``; ``--extend 96000`` also
trains the failed 2-2-1 seeds 96,000 epochs more and measures those that still fail.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.network import Network
from ..experiments.build import build_optimizer, train
from ..experiments.config import load_config
from ..experiments.stats import learned
from ..train.loop import fit
from .hessian import hessian, spectrum
from .points import evaluate, flatten

#: Below this gradient norm a point is near-stationary (lr 0.1 then moves it less than 1e-4 an epoch).
GRAD_TOL = 1e-3
#: An eigenvalue below -NEG_TOL is negative (a thousand times the Hessian's finite-difference error).
NEG_TOL = 1e-6
#: The study's networks: hidden width and epochs (2-2-1 at 4000, where about half the seeds still fail).
SETTINGS = ((2, 4000), (8, 2000))
CLASSES = ("still moving", "saddle", "minimum or plateau")


@dataclass
class Failures:
    """The failed seeds of one network and what their last point is.

    Attributes
    ----------
    name : str
        ``"2-2-1, 4000 epochs"``.
    seeds : int
        Seeds trained.
    failed : ndarray ``(N,)``
        Seeds that failed.
    loss, grad_norm, min_eigenvalue, max_eigenvalue, newton : ndarray ``(N,)``
        At the last epoch; ``newton`` is ``||H^-1 g||`` where ``H`` is positive definite, else NaN.
    wrong : ndarray ``(N,)``
        Rows of the truth table on the wrong side of 0.5.
    kind : ndarray ``(N,)`` of str
        One of ``CLASSES``.
    weight_norm : ndarray ``(N,)``
        ``||theta||``, to read ``newton`` against.
    """

    name: str
    seeds: int
    failed: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    min_eigenvalue: np.ndarray
    max_eigenvalue: np.ndarray
    newton: np.ndarray
    wrong: np.ndarray
    kind: np.ndarray
    weight_norm: np.ndarray

    def count(self, kind: str) -> int:
        return int(np.sum(self.kind == kind))


def classify(grad_norm: np.ndarray, min_eigenvalue: np.ndarray, grad_tol: float = GRAD_TOL,
             neg_tol: float = NEG_TOL) -> np.ndarray:
    """The class of each point (see the module docstring): an array of ``CLASSES`` names."""
    moving = grad_norm >= grad_tol
    return np.where(moving, CLASSES[0], np.where(min_eigenvalue < -neg_tol, CLASSES[1], CLASSES[2]))


def failures(hidden: int, epochs: int, seeds: int = 1000, seed: int = 0, extend: int = 0) -> Failures:
    """Train ``seeds`` seeds of 2-``hidden``-1 XOR for ``epochs`` and measure every failed one's last point.

    With ``extend``, the failed seeds train ``extend`` epochs more (the same optimizer
    and batches) and those that still fail are measured: where do they go?
    """
    config = load_config("xor").replace("model", hidden=[hidden]).replace("training", epochs=epochs)
    trained = train(config, seed=seed, runs=seeds)
    net, X, y = trained.net, trained.X, trained.y
    failed = np.flatnonzero(~learned(net.predict_proba(X)[..., 0], y))
    name = f"2-{hidden}-1, {epochs} epochs" + (f" + {extend} more" if extend else "")
    sub = _runs(net, failed)
    if extend and len(failed):
        fit(sub, X, y, optimizer=build_optimizer(config), epochs=extend, batch_size=config.training.batch_size,
            shuffle=config.training.shuffle, progress=False)
        still = np.flatnonzero(~learned(sub.predict_proba(X)[..., 0], y))
        failed, sub = failed[still], _runs(sub, still)
    if not len(failed):
        empty = np.empty(0)
        return Failures(name, seeds, failed, *(empty,) * 6, np.empty(0, dtype=np.int64), np.empty(0, dtype=str), empty)
    H = hessian(sub, X, y)  # (N, P, P), every failed seed at once
    s = spectrum(H)
    theta = flatten(sub)
    values = evaluate(sub, X, y, theta, run=np.arange(len(failed)), grads=True)
    g = values.grads  # (N, P)
    grad_norm = np.linalg.norm(g, axis=1)
    newton = np.full(len(failed), np.nan)
    pd = s.min > NEG_TOL
    if pd.any():
        newton[pd] = np.linalg.norm(np.linalg.solve(H[pd], g[pd][..., None])[..., 0], axis=1)
    wrong = np.sum((sub.predict_proba(X)[..., 0] > 0.5) != (y > 0.5), axis=1)
    return Failures(name, seeds, failed, values.loss, grad_norm, s.min, s.max, newton, wrong,
                    classify(grad_norm, s.min), np.linalg.norm(theta, axis=1))


def _runs(net: Network, keep: np.ndarray) -> Network:
    """A network holding runs ``keep`` of ``net`` (through the state dict; ``net`` is not touched)."""
    sub = Network.from_config({**net.to_config(), "runs": max(len(keep), 1)})
    if len(keep):
        sub.load_state_dict({k: v[keep] for k, v in net.state_dict().items()})
    return sub


def table_text(results: Sequence[Failures]) -> str:
    """The study's table (Markdown) with the criteria and thresholds stated above it."""
    from ..present.table import Table

    def med(a: np.ndarray) -> float:
        return float(np.median(a)) if len(a) else float("nan")

    rows = []
    for r in results:
        rows.append([r.name, r.seeds, len(r.failed), *(r.count(k) for k in CLASSES), med(r.grad_norm),
                     med(r.min_eigenvalue), med(r.max_eigenvalue), int(np.sum(r.min_eigenvalue > NEG_TOL))])
    table = Table("failures", "Failed XOR seeds at their last epoch",
                  ["network", "seeds", "failed", *CLASSES, "median ||g||", "median λ_min", "median λ_max",
                   "H positive definite"], rows, ["", "", "", "", "", "", ".2e", ".2e", ".2e", ""])
    return criteria() + "\n\n" + table.to_text()


def criteria() -> str:
    """The classification rule and its thresholds, in words (printed with every result)."""
    return (f"Criteria at each failed seed's last epoch (g: full-batch gradient, λ: exact Hessian eigenvalues):\n"
            f"  still moving        ||g|| >= {GRAD_TOL:g}\n"
            f"  saddle              ||g|| <  {GRAD_TOL:g} and λ_min <  -{NEG_TOL:g}\n"
            f"  minimum or plateau  ||g|| <  {GRAD_TOL:g} and λ_min >= -{NEG_TOL:g}\n"
            "A seed fails when a row of the truth table is on the wrong side of 0.5.")


def compare(result: Failures) -> str:
    """What the 2-2-1 result says next to Sprinkhuizen-Kuyper & Boers (finite stationary points are saddles)."""
    n = len(result.failed)
    if not n:
        return "No seed failed: nothing to compare."
    pd = result.min_eigenvalue > NEG_TOL
    far = np.nanmedian(result.newton[pd] / result.weight_norm[pd]) if pd.any() else float("nan")
    return (f"{result.name}: of {n} failed seeds, {result.count(CLASSES[0])} are still moving (||g|| >= {GRAD_TOL:g}), "
            f"{result.count(CLASSES[1])} sit near a saddle and {result.count(CLASSES[2])} near a minimum or plateau. "
            f"{int(pd.sum())} have a positive definite Hessian; there the local quadratic model's minimum lies a "
            f"median {far:.1f} times the weights' own norm away. Sprinkhuizen-Kuyper & Boers (1999) proved that the "
            "quadratic-error 2-2-1 XOR network has no finite local minimum (its finite stationary points are "
            "saddles, its minima lie at infinity); this network uses binary cross-entropy, which their proof does "
            "not cover.")


def figure(results: Sequence[Failures]):  # -> matplotlib Figure
    """Gradient norm against the smallest Hessian eigenvalue for every failed seed, thresholds drawn."""
    from ..train.plot import Figure  # shows as a PNG in a notebook, without pyplot

    fig = Figure(figsize=(5.2 * len(results), 4.2), layout="constrained")
    axes = fig.subplots(1, len(results), squeeze=False)[0]
    colors = dict(zip(CLASSES, ("#1f77b4", "#d62728", "#2ca02c"), strict=True))
    for ax, r in zip(axes, results, strict=True):
        for kind in CLASSES:
            m = r.kind == kind
            ax.scatter(r.grad_norm[m], r.min_eigenvalue[m], s=12, alpha=0.7, color=colors[kind],
                       label=f"{kind} ({int(m.sum())})")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=NEG_TOL)
        ax.axvline(GRAD_TOL, color="black", lw=0.8, ls="--")
        ax.axhline(-NEG_TOL, color="black", lw=0.8, ls=":")
        ax.set_xlabel("gradient norm ||g|| at the last epoch")
        ax.set_ylabel("smallest Hessian eigenvalue λ_min")
        ax.set_title(f"{r.name}\n{len(r.failed)} of {r.seeds} seeds fail")
        ax.legend(fontsize=8, loc="center")
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m backproplab.landscape.study [--seeds N] [--out DIR]``: print the table, write the figure."""
    parser = argparse.ArgumentParser(prog="python -m backproplab.landscape.study", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000, help="seeds per network (default: 1000)")
    parser.add_argument("--out", default=None, help="folder for failures.png and failures.md (default: none)")
    parser.add_argument("--extend", type=int, default=0, metavar="EPOCHS",
                        help="also train the failed 2-2-1 seeds this many epochs more and measure those that still "
                             "fail (the documentation's check used 96000; default: 0, none)")
    args = parser.parse_args(argv)
    if not 1 <= args.seeds <= 100_000:
        print(f"{parser.prog}: error: --seeds must be between 1 and 100000, got {args.seeds}", file=sys.stderr)
        return 2
    if not 0 <= args.extend <= 10_000_000:
        print(f"{parser.prog}: error: --extend must be between 0 and 10000000, got {args.extend}", file=sys.stderr)
        return 2
    results = [failures(hidden, epochs, seeds=args.seeds) for hidden, epochs in SETTINGS]
    if args.extend:
        hidden, epochs = SETTINGS[0]
        results.append(failures(hidden, epochs, seeds=args.seeds, extend=args.extend))
    text = table_text(results) + "\n\n" + "\n\n".join(compare(r) for r in results if r.name.startswith("2-2-1"))
    print(text)
    if args.out:
        from ..core._archive import write_text
        from ..files.io import atomic_write

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "failures.md", text + "\n")
        with atomic_write(out / "failures.png") as f:
            figure(results).savefig(f, format="png", dpi=110)
        print(f"\n{out / 'failures.md'}\n{out / 'failures.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
