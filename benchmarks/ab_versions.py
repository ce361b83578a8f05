"""Time ``fit`` for two versions of backproplab in one process, interleaved: the imported one against a commit.

Usage (from the repository root)::

    python benchmarks/ab_versions.py --before 3d28622 [--only B3] [--repeats 15] [--cpus 1] [--threads 1]
                                     [--peers hand,floor,torch]

``--before`` names a commit of this repository; its ``src/backproplab`` is
extracted (``git archive``) into a temporary folder and imported as a second
package, ``backproplab_before``, beside the ``backproplab`` that ``import``
finds (run with ``PYTHONPATH=src`` to time the working tree). Both train the
same problem (``workloads.py``) from the same initial weights, as
``run.lib_prepare`` does; each round times every contender once, in turn
(before, after, then the peers), so a burst of load from elsewhere hits them
alike. It prints the medians and minima of wall and CPU seconds, each median's
ratio to ``before`` (and to the matrix products alone, ``floor``, for B3), the
load average at the start and the end, and whether ``before`` and ``after`` ended
at bit-identical weights, losses and accuracies (or the largest relative
difference of the weights). The process pins itself to ``--cpus`` and limits the
BLAS and PyTorch pools to ``--threads`` before NumPy loads, and unsets
``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (see ``README.md``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pin(cpus: set[int], threads: int) -> None:
    """Pin to ``cpus`` and size every pool to ``threads``, before any numeric library is imported."""
    os.sched_setaffinity(0, cpus)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.pop("OPENBLAS_CORETYPE", None)
    os.environ.pop("OPENBLAS_L2_SIZE", None)


def import_commit(commit: str, folder: Path):
    """``src/backproplab`` of ``commit`` imported as ``backproplab_before`` (its imports are relative)."""
    archive = folder / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(HERE.parent), "archive", commit, "src/backproplab"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    (folder / "src" / "backproplab").rename(folder / "backproplab_before")
    sys.path.insert(0, str(folder))
    return importlib.import_module("backproplab_before")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="commit whose backproplab is timed against the imported one")
    parser.add_argument("--only", default="B3", help="comma-separated workloads: B1, B2, B2f32, B3 (default B3)")
    parser.add_argument("--repeats", type=int, default=15, help="interleaved timed rounds (medians reported)")
    parser.add_argument("--cpus", default="1", help="cores to pin to, comma-separated (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="threads per BLAS and PyTorch pool (default 1)")
    parser.add_argument("--peers", default="hand,floor", help="also time: hand, floor (B3 only), torch")
    args = parser.parse_args(argv)
    pin({int(c) for c in args.cpus.split(",")}, args.threads)

    import numpy as np

    import backproplab
    import hand
    import peers
    import workloads
    from hand import Result

    def lib(bp):
        def prepare(prob: workloads.Problem):
            w = prob.workload
            net = bp.mlp(list(w.sizes), activation=w.activation, output=w.output, seed=w.seed, runs=w.runs,
                         dtype=w.dtype)
            start = dict(zip(net.params, prob.params, strict=True))

            def run() -> Result:
                net.set_params(start)
                history = bp.fit(net, prob.X, prob.labels, optimizer=bp.SGD(w.lr), epochs=w.epochs,
                                 batch_size=w.batch_size, shuffle_seed=w.seed, progress=False)
                return Result([p.copy() for p in net.params.values()], history.loss, history.accuracy)

            return run

        return prepare

    chosen = {
        "B1": workloads.b1(), "B2": workloads.b2(), "B2f32": workloads.b2(dtype="float32"), "B3": workloads.b3(),
    }
    names = [s.strip() for s in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        before = import_commit(args.before, Path(tmp))
        print(f"before: {args.before} ({before.__file__}); after: {backproplab.__file__}")
        print(f"cores {sorted(os.sched_getaffinity(0))}, {args.threads} thread(s); numpy {np.__version__}")
        print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
        for name in names:
            w = chosen[name]
            prob = workloads.make_problem(w)
            contenders = {"before": lib(before), "after": lib(backproplab)}
            xor = w.output == "sigmoid"
            for peer in filter(None, args.peers.split(",")):
                if peer == "hand":
                    contenders["hand"] = hand.prepare_xor if xor else hand.prepare_mnist_like
                elif peer == "floor" and not xor:
                    contenders["floor"] = hand.prepare_matmul_floor
                elif peer == "torch" and peers.available()["torch"]:
                    import torch

                    torch.set_num_threads(args.threads)
                    contenders["torch"] = peers.torch_xor if xor else peers.torch_mnist_like
            runs = {k: prepare(prob) for k, prepare in contenders.items()}
            results = {k: run() for k, run in runs.items()}  # warm-up
            wall: dict[str, list[float]] = {k: [] for k in runs}
            cpu: dict[str, list[float]] = {k: [] for k in runs}
            load = os.getloadavg()[0]
            for _ in range(args.repeats):
                for k, run in runs.items():
                    gc.collect()
                    t0, c0 = time.perf_counter(), time.process_time()
                    results[k] = run()
                    cpu[k].append(time.process_time() - c0)
                    wall[k].append(time.perf_counter() - t0)
            a, b = results["before"], results["after"]
            same = all(np.array_equal(x, y) for x, y in zip(a.params, b.params, strict=True))
            same = same and np.array_equal(a.loss, b.loss) and np.array_equal(a.accuracy, b.accuracy)
            rel = max(float(np.max(np.abs(x - y)) / np.max(np.abs(x))) for x, y in zip(a.params, b.params, strict=True))
            print(f"\n{w.label}: {args.repeats} rounds, load {load:.2f} -> {os.getloadavg()[0]:.2f}; "
                  f"before and after bit-identical: {same}" + ("" if same else f" (weights differ by {rel:.1e})"))
            for label, times in (("wall", wall), ("cpu", cpu)):
                med = {k: statistics.median(v) for k, v in times.items()}
                for k, v in times.items():
                    floor = f"  {med[k] / med['floor']:.3f}x floor" if "floor" in med else ""
                    print(f"  {label} {k:<7} median {med[k]:.4f} s  min {min(v):.4f}  max {max(v):.4f}  "
                          f"{med[k] / med['before']:.3f}x before{floor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
