"""What a live loss plot costs in a Jupyter kernel (issue 22: at most 5 % of B1's time with a redraw per second).

``python benchmarks/notebook_bench.py`` starts a real kernel (nbclient + ipykernel, as the
tests do) and times, inside it, B1 (XOR 2-8-1, 2000 epochs, batch 4, float64) without any
display, with ``live=2000`` (the plot shown once and redrawn at the end) and with ``live=1``
(a redraw after every epoch, to measure one redraw). A redraw replaces one display in the
cell's output with the history so far (an SVG of at most 200 points) and sends it to the
front end, so its cost is the redraw itself plus the message; it does not grow with the run.
The share at one redraw per second is that cost divided by one second.
Medians over ``--repeats`` runs; the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import json
import os

import nbformat
from nbclient import NotebookClient

CELL = """
import json, time
import numpy as np
import backproplab as bp
from backproplab.data import logic_table

X, y = logic_table("xor")


def b1(**options):
    net = bp.mlp([2, 8, 1], seed=0)
    start = time.perf_counter()
    bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=2000, batch_size=4, progress=False, **options)
    return time.perf_counter() - start


def redraws(epochs=200):
    live = bp.LivePlot(every=1)
    net = bp.mlp([2, 8, 1], seed=0)
    start = time.perf_counter()
    bp.fit(net, X, y, optimizer=bp.SGD(0.1), epochs=epochs, batch_size=4, progress=False, callbacks=[live])
    with_live = time.perf_counter() - start
    start = time.perf_counter()
    bp.fit(bp.mlp([2, 8, 1], seed=0), X, y, optimizer=bp.SGD(0.1), epochs=epochs, batch_size=4, progress=False)
    return (with_live - (time.perf_counter() - start)) / live.redraws


b1()  # warm up
times = {"plain": [], "live_end": [], "per_redraw": []}
for _ in range(REPEATS):
    times["plain"].append(b1())
    times["live_end"].append(b1(live=2000))
    times["per_redraw"].append(redraws())
print(json.dumps({key: float(np.median(v)) for key, v in times.items()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL.replace("REPEATS", str(args.repeats)))])
    NotebookClient(nb, timeout=600, kernel_name="python3").execute(env=dict(os.environ))
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stdout")
    m = json.loads(text.strip().splitlines()[-1])
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)")
    print(f"B1 without display:        median {m['plain'] * 1e3:7.1f} ms")
    print(f"B1 with live=2000:         median {m['live_end'] * 1e3:7.1f} ms "
          f"({m['live_end'] / m['plain']:.3f}x; one display and one redraw)")
    print(f"one redraw (live=1, 200):  median {m['per_redraw'] * 1e3:7.2f} ms")
    print(f"at one redraw per second:  {m['per_redraw'] * 100:.2f} % of the training time (goal <= 5 %)")


if __name__ == "__main__":
    main()
