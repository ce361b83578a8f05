"""Landscapes on the runs axis against one point at a time.

    python benchmarks/landscape_bench.py [--repeats 5] [--rows 64] [--columns 1000]

Three workloads, each timed both ways in the same run (medians of ``--repeats``):

- a 51 x 51 plane (2601 points) of the 2-8-1 XOR network: ``landscape.plane``
  (every point in one pass) against a loop that loads each point into the network
  (``load_state_dict``) and evaluates the loss;
- the exact Hessian of the 2-8-1 XOR network (33 parameters, 66 gradients):
  ``landscape.hessian`` against a loop of ``loss_and_gradients`` calls, one per
  perturbed point;
- the exact Hessian of a 784-32-10 softmax network (25,450 parameters, 50,900
  gradients, a 5.2 GB matrix) on ``--rows`` random rows: ``landscape.hessian``
  in full (timed once), against the one-point loop on ``--columns`` columns,
  extrapolated linearly to all of them (the loop's cost per column is constant).

Both ways give the same numbers (checked here). ``uptime`` is printed before
and after: other jobs share the machine's two cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

import numpy as np

import backproplab as bp
from backproplab.core.losses import get_loss
from backproplab.data import logic_table
from backproplab.landscape import flatten, hessian, plane, random_directions, unflatten


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def plane_one_at_a_time(net: bp.Network, X, y, d1, d2, steps: int) -> np.ndarray:
    grid = np.linspace(-1, 1, steps)
    theta, work = flatten(net), bp.Network.from_config(net.to_config())
    loss = get_loss(None, net.output)
    Y = loss.prepare_targets(y, net.n_outputs)
    out = np.empty((steps, steps))
    for i, b in enumerate(grid):
        for j, a in enumerate(grid):
            work.load_state_dict(unflatten(work, theta + a * d1 + b * d2))
            out[i, j] = loss.value(work.forward(X, train=False), Y)
    return out


def hessian_columns_one_at_a_time(net: bp.Network, X, y, columns: np.ndarray, step: float = 1e-5) -> np.ndarray:
    theta, work = flatten(net), bp.Network.from_config(net.to_config())
    out = np.empty((len(columns), len(theta)))
    for k, i in enumerate(columns):
        grads = []
        for sign in (1, -1):
            point = theta.copy()
            point[i] += sign * step
            work.load_state_dict(unflatten(work, point))
            _, g = bp.loss_and_gradients(work, X, y, train=False)
            grads.append(flatten(work, g))
        out[k] = (grads[0] - grads[1]) / (2 * step)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=64, help="rows of the 784-32-10 network's data (default: 64)")
    parser.add_argument("--columns", type=int, default=1000,
                        help="Hessian columns of the 784-32-10 network the one-point loop computes (default: 1000)")
    args = parser.parse_args()
    print(f"before: {uptime()}")
    X, y = logic_table("xor")
    net = bp.mlp([2, 8, 1], seed=0)
    bp.fit(net, X, y, epochs=2000, progress=False)
    d1, d2 = random_directions(net, seed=0)

    fast, p = median_time(lambda: plane(net, X, y, d1, d2, span=1.0, steps=51), args.repeats)
    slow, q = median_time(lambda: plane_one_at_a_time(net, X, y, d1, d2, 51), args.repeats)
    assert np.abs(p.loss - q).max() < 1e-12
    print(f"51 x 51 plane, 2-8-1 XOR:      runs axis {fast:8.3f} s   one point at a time {slow:8.3f} s   "
          f"x{slow / fast:.1f}")

    fast, H = median_time(lambda: hessian(net, X, y), args.repeats)
    slow, H1 = median_time(lambda: hessian_columns_one_at_a_time(net, X, y, np.arange(33)), args.repeats)
    assert np.abs(H - (H1 + H1.T) / 2).max() < 1e-9
    print(f"Hessian, 2-8-1 XOR (33):       runs axis {fast:8.4f} s   one point at a time {slow:8.4f} s   "
          f"x{slow / fast:.1f}")

    rng = np.random.default_rng(0)
    Xb, yb = rng.normal(size=(args.rows, 784)), rng.integers(0, 10, args.rows)
    big = bp.mlp([784, 32, 10], activation="relu", output="softmax", seed=0)
    P = big.n_params
    start = time.perf_counter()
    Hb = hessian(big, Xb, yb)
    fast = time.perf_counter() - start
    cols = np.linspace(0, P - 1, args.columns).round().astype(np.int64)
    start = time.perf_counter()
    Hc = hessian_columns_one_at_a_time(big, Xb, yb, cols)
    part = time.perf_counter() - start
    slow = part * P / len(cols)
    # Hb is symmetrised; the loop's columns are not: compare them with the symmetric part's own rows loosely.
    assert np.abs(Hb[cols] - Hc).max() < 1e-4 * max(1.0, np.abs(Hc).max())
    print(f"Hessian, 784-32-10 ({P:,}, {args.rows} rows, {Hb.nbytes / 1e9:.1f} GB): runs axis {fast:8.1f} s   "
          f"one point at a time {slow:8.1f} s (extrapolated from {len(cols)} columns in {part:.1f} s)   "
          f"x{slow / fast:.1f}")
    print(f"after:  {uptime()}")


if __name__ == "__main__":
    main()
