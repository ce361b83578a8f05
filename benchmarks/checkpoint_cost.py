"""What checkpointing costs: the report's XOR run trained long, with and without a checkpoint every N epochs.

Usage (from the repository root)::

    python benchmarks/checkpoint_cost.py [--epochs 300000] [--every 500] [--repeats 3]

Trains ``bp.mlp([2, 8, 1], seed=0)`` on XOR (SGD lr 0.1, batch 4: config ``xor``)
for ``--epochs`` epochs, alternately without checkpoints and with
``checkpoint_every=--every``, and prints the median wall and CPU seconds of each
and the overhead of checkpointing (issue 11 part 4: at most 15% at 300,000
epochs and every 500). CPU time is the process's own; wall time also counts the
writes' waits (fsync), so both are shown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import backproplab as bp

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0])


def train(epochs: int, every: int | None, folder: Path) -> tuple[float, float]:
    net = bp.mlp([2, 8, 1], seed=0)
    options = {"checkpoint": folder / "ckpt.npz", "checkpoint_every": every} if every else {}
    wall, cpu = time.perf_counter(), time.process_time()
    bp.fit(net, X, Y, optimizer=bp.SGD(0.1), epochs=epochs, batch_size=4, progress=False, **options)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300_000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"none": [], "every": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):  # interleaved, so that load from elsewhere hits both alike
            times["none"].append(train(args.epochs, None, Path(tmp)))
            times["every"].append(train(args.epochs, args.every, Path(tmp)))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    print(f"XOR 2-8-1, {args.epochs} epochs, {args.repeats} repeats (medians)")
    print(f"no checkpoints          wall {med['none'][0]:8.2f} s   cpu {med['none'][1]:8.2f} s")
    print(f"checkpoint every {args.every:<6} wall {med['every'][0]:8.2f} s   cpu {med['every'][1]:8.2f} s")
    print(f"overhead                wall {med['every'][0] / med['none'][0] - 1:+8.1%}     "
          f"cpu {med['every'][1] / med['none'][1] - 1:+8.1%}")


if __name__ == "__main__":
    main()
