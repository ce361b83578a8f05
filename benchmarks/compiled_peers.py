"""Issue 23's table: backproplab against the hand loops, PyTorch, torch.func and JAX, pinned, one command.

Usage (from the repository root)::

    python benchmarks/compiled_peers.py [--repeats 5] [--only B1,B2,B3] [--threads 1]

The process pins itself to one core (``os.sched_setaffinity``, as ``taskset -c 0``;
two cores with ``--threads 2``) and limits every pool to ``--threads`` threads
before NumPy, PyTorch or JAX is imported: ``OMP/MKL/OPENBLAS_NUM_THREADS``,
``torch.set_num_threads`` and, for one thread, XLA's
``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``.
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` are unset for this process only (they
slow a current NumPy; see ``benchmarks/README.md``); the ``blas=`` line says which
kernel ran.

Each workload (``workloads.py``: B1 2-8-1 float64, B2 1,000 of them in float64
and float32, B3 784-256-128-10 float32) runs every contender once as a warm-up,
then ``--repeats`` interleaved rounds (A B C ..., A B C ...); the table shows
medians. Every contender starts from backproplab's initial weights and must end
at backproplab's final weights (``run.check_agreement``) or the run stops; for
B2 it also prints how many of the 1,000 XOR networks each one taught XOR. JAX's
first call in a fresh process (interpreter start, import, compile, run) is timed
apart, as whole processes. ``uptime`` is printed at the start and the end: on a
shared machine the load says how far to trust the seconds. The table is also
written to ``results/compiled_peers.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pin(threads: int) -> None:
    """One core and one thread per pool (or ``threads`` of each), set before any numeric library loads."""
    os.sched_setaffinity(0, set(range(threads)))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ.pop("OPENBLAS_CORETYPE", None)
    os.environ.pop("OPENBLAS_L2_SIZE", None)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


#: Column order of the table (the issue's), then extra contenders run.py knows.
COLUMNS = ["backproplab", "hand NumPy", "hand runs-last", "PyTorch", "torch.func", "JAX first call", "JAX compiled",
           "matmul floor"]

FRESH = """
import sys, time
sys.path.insert(0, {here!r})
import jax
jax.config.update("jax_enable_x64", True)
import compiled, workloads
run = compiled.jax_first_call(workloads.make_problem(workloads.{workload}))
run()
"""


def fresh_process(workload: str, repeats: int) -> list[float]:
    """Seconds of whole processes that start Python, import JAX and make the first call on ``workload``."""
    code = FRESH.format(here=str(HERE), workload=workload)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return times


def learned(params: list, X) -> int:
    """How many stacked XOR networks classify all four rows right with ``params`` (NumPy, float64)."""
    import numpy as np

    W1, b1, W2, b2 = (np.asarray(p, np.float64) for p in params)
    z = (np.tanh(0.5 * (X @ W1 + b1)) * 0.5 + 0.5) @ W2 + b2  # (R, 4, 1)
    return int(np.all((z[..., 0] > 0) == np.array([0, 1, 1, 0], bool), axis=-1).sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timed rounds (median reported)")
    parser.add_argument("--only", default="B1,B2,B3", help="comma-separated workloads (default all)")
    parser.add_argument("--threads", type=int, default=1, choices=(1, 2), help="cores and threads per pool")
    parser.add_argument("--fresh", type=int, default=3, help="fresh-process JAX first calls to time (0: none)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "compiled_peers.md")
    args = parser.parse_args(argv)
    pin(args.threads)

    import numpy as np  # after pin(): the pools read the environment when they load
    from threadpoolctl import threadpool_info

    import compiled
    import hand
    import peers
    import run as harness
    from backproplab.files import io as bp_io
    from workloads import b1, b2, b3, make_problem

    lines: list[str] = []

    def log(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    have = {**peers.available(), **compiled.available()}
    if have["torch"]:
        import torch

        torch.set_num_threads(args.threads)
    blas = "; ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    log(f"start: {uptime()}")
    cores = sorted(os.sched_getaffinity(0))
    log(f"pinned to cores {cores}, {args.threads} thread(s) per pool; numpy {np.__version__}, blas={blas}; "
        f"torch {have['torch']}; jax {have['jax']}")
    log(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    contenders: dict = {"backproplab": harness.lib_prepare}
    if have["torch"]:
        contenders |= {"PyTorch": None, "torch.func": compiled.torch_func}
    if have["jax"]:
        contenders |= {"JAX first call": compiled.jax_first_call, "JAX compiled": compiled.jax_compiled}
    only = {s.strip().upper() for s in args.only.split(",")}
    workloads = [w for w in (b1(), b2(), b2(dtype="float32"), b3()) if w.name in only]
    table: dict[str, dict[str, float]] = {}
    for w in workloads:
        xor = w.output == "sigmoid"
        chosen = {
            name: prep or (peers.torch_xor if xor else peers.torch_mnist_like) for name, prep in contenders.items()
        }
        chosen["hand NumPy"] = hand.prepare_xor if xor else hand.prepare_mnist_like
        if w.runs:  # B2: the same loop in the runs-last layout, the floor of a library with that layout
            chosen["hand runs-last"] = hand.prepare_xor_runs_last
        if not xor:
            chosen["matmul floor"] = hand.prepare_matmul_floor
        prob = make_problem(w)
        times, results = harness.time_all(prob, chosen, args.repeats)
        diffs = harness.check_agreement(results, w.dtype, w.label)
        table[w.label] = {name: statistics.median(ts) for name, ts in times.items()}
        lib = table[w.label]["backproplab"]
        log(f"\n{w.label} (load {os.getloadavg()[0]:.2f})")
        for name, ts in times.items():
            med = statistics.median(ts)
            extra = f"  max |dW| {diffs[name]:.1e}" if name in diffs else ""
            if w.runs and results[name].params:
                extra += f"  learned {learned(results[name].params, prob.X)}/{w.runs}"
            log(f"  {name:<15} median {med:8.4f} s  min {min(ts):8.4f}  max {max(ts):8.4f}  "
                f"{med / lib:6.2f}x backproplab{extra}")

    fresh = fresh_process("b1()", args.fresh) if have["jax"] and args.fresh and "B1" in only else []
    if fresh:
        log(f"\nJAX first call on B1 in a fresh process (start, import, compile, run): median "
            f"{statistics.median(fresh):.2f} s (min {min(fresh):.2f}, max {max(fresh):.2f}, {len(fresh)} processes)")
    log(f"\nend: {uptime()}\n")
    cols = [c for c in COLUMNS if any(c in row for row in table.values())]
    log("| workload | " + " | ".join(cols) + " |")
    log("|---|" + "---|" * len(cols))
    for label, row in table.items():
        log(f"| {label} | " + " | ".join(f"{row[c]:.4f}" if c in row else "—" for c in cols) + " |")
    if "B3" in only and "JAX compiled" in cols:
        b3_row = next(row for label, row in table.items() if label.startswith("B3"))
        log(f"\nB3 against its matrix products: backproplab {b3_row['backproplab'] / b3_row['matmul floor']:.2f}x, "
            f"hand NumPy {b3_row['hand NumPy'] / b3_row['matmul floor']:.2f}x, "
            f"JAX compiled {b3_row['JAX compiled'] / b3_row['matmul floor']:.2f}x")
    for label, row in table.items():  # B2's target is a ratio to compiled JAX; the runs-last hand loop is NumPy's floor
        if label.startswith("B2") and "JAX compiled" in row and "hand runs-last" in row:
            log(f"{label} against compiled JAX: backproplab {row['backproplab'] / row['JAX compiled']:.2f}x, "
                f"hand runs-last {row['hand runs-last'] / row['JAX compiled']:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bp_io.write_text(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
