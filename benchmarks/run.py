"""Run every benchmark of issue 5 in one process and print times, ratios and targets.

Usage (from the repository root)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py [--repeats 7] [--quick]

For each workload (see ``workloads.py``) it times backproplab, a minimal
hand-written NumPy loop (``hand.py``), PyTorch on the CPU and scikit-learn
(``peers.py``) where they are installed and can express the workload, and for
B3 the matrix products alone. Repeats are interleaved (A B C, A B C, ...) so a
burst of load from elsewhere hits every contender alike, and the table shows
medians. It also measures B3's peak memory against the hand loop's
(tracemalloc), sweeps B2 over the number of runs and B3 over the width, and
saves the sweeps as a figure. Results agree or the run fails: every contender
that starts from backproplab's weights must end at backproplab's weights.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

import backproplab as bp
import hand
import peers
from backproplab.files import io as bp_io
from hand import Result
from workloads import Problem, Workload, b1, b2, b3, make_problem

HERE = Path(__file__).resolve().parent
Prepare = Callable[[Problem], Callable[[], Result]]


def lib_prepare(prob: Problem) -> Callable[[], Result]:
    """backproplab as a user calls it: ``mlp`` once, then ``fit`` (timed) from the shared weights."""
    w = prob.workload
    net = bp.mlp(list(w.sizes), activation=w.activation, output=w.output, seed=w.seed, runs=w.runs, dtype=w.dtype)
    start = dict(zip(net.params, prob.params, strict=True))

    def run() -> Result:
        net.set_params(start)
        history = bp.fit(
            net,
            prob.X,
            prob.labels,
            optimizer=bp.SGD(w.lr),
            epochs=w.epochs,
            batch_size=w.batch_size,
            shuffle_seed=w.seed,
            progress=False,
        )
        return Result([p.copy() for p in net.params.values()], history.loss, history.accuracy)

    return run


# --- timing -----------------------------------------------------------------------------


def time_all(problem: Problem, contenders: dict[str, Prepare], repeats: int) -> tuple[dict, dict]:
    """Median-ready times of every contender on ``problem``, repeats interleaved.

    Returns ``(times, results)``: seconds per repeat and the last ``Result`` of each.
    """
    runs = {name: prepare(problem) for name, prepare in contenders.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Result] = {}
    for name, run in runs.items():  # warm-up: caches, lazy imports, BLAS threads
        results[name] = run()
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            t0 = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - t0)
    return times, results


def check_agreement(results: dict[str, Result], dtype: str, workload: str) -> dict[str, float]:
    """Largest parameter difference of each contender from backproplab; fail if one is off.

    Contenders that start from backproplab's weights (all but scikit-learn, which
    draws its own) must end there too, up to float rounding accumulated over
    the run: the benchmark would otherwise compare different computations.
    """
    ref = results["backproplab"].params
    tol = 1e-9 if dtype == "float64" else 2e-3
    out = {}
    for name, res in results.items():
        if name == "backproplab" or not res.params or name == "scikit-learn":
            continue
        diff = max(float(np.max(np.abs(np.asarray(a, np.float64) - b))) for a, b in zip(res.params, ref, strict=True))
        scale = max(float(np.max(np.abs(b))) for b in ref)
        out[name] = diff
        if not diff <= tol * max(scale, 1.0):
            raise SystemExit(f"{workload}: {name} ended {diff:.3g} away from backproplab's weights (> {tol:g})")
    return out


# --- memory -----------------------------------------------------------------------------


def peak_memory(run: Callable[[], Result]) -> int:
    """Bytes allocated by ``run`` at its peak, above what existed before (NumPy reports to tracemalloc)."""
    gc.collect()
    tracemalloc.start()  # traces only what is allocated from here on
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the workloads ----------------------------------------------------------------------


def contenders(w: Workload, have: dict[str, str | None]) -> dict[str, Prepare]:
    """Who runs workload ``w``: backproplab and the hand loop always, peers when installed and able."""
    xor = w.output == "sigmoid"
    out: dict[str, Prepare] = {"backproplab": lib_prepare}
    out["hand NumPy"] = hand.prepare_xor if xor else hand.prepare_mnist_like
    if have["torch"]:
        out["PyTorch"] = peers.torch_xor if xor else peers.torch_mnist_like
        if peers.torch_threads() > 1:
            out["PyTorch 1 thread"] = peers.one_thread(out["PyTorch"])
    if have["sklearn"] and not w.runs:  # MLPClassifier has no runs axis
        out["scikit-learn"] = peers.sklearn_xor if xor else peers.sklearn_mnist_like
    if not xor:
        out["matmul floor"] = hand.prepare_matmul_floor
    return out


#: (workload name, contender, how the target reads, test on t_contender / t_backproplab)
TARGETS: list[tuple[str, str, str, Callable[[float], bool]]] = [
    ("B1", "hand NumPy", "backproplab <= 1.5x hand", lambda r: r >= 1 / 1.5),
    ("B1", "PyTorch", ">= 5x faster than PyTorch", lambda r: r >= 5),
    ("B1", "scikit-learn", ">= 2x faster than sklearn", lambda r: r >= 2),
    ("B2", "hand NumPy", "backproplab <= 1.25x hand", lambda r: r >= 1 / 1.25),
    ("B2", "PyTorch", ">= 1.5x faster than PyTorch", lambda r: r >= 1.5),
    ("B3", "hand NumPy", "backproplab <= 1.2x hand", lambda r: r >= 1 / 1.2),
    ("B3", "PyTorch", "at least as fast as PyTorch", lambda r: r >= 1),
    ("B3", "scikit-learn", ">= 2x faster than sklearn", lambda r: r >= 2),
    ("B3", "matmul floor", "backproplab <= 1.5x matmul floor", lambda r: r >= 1 / 1.5),
]


def run_table(workloads: list[Workload], have: dict, repeats: int, log: Callable[[str], None]) -> list[dict]:
    """Time every contender on every workload; print the table as it fills."""
    rows = []
    log(f"{'workload':<26} {'contender':<14} {'median s':>9} {'min s':>9} {'vs backproplab':>15} {'max |dW|':>9}")
    for w in workloads:
        prob = make_problem(w)
        times, results = time_all(prob, contenders(w, have), repeats)
        diffs = check_agreement(results, w.dtype, w.label)
        lib = statistics.median(times["backproplab"])
        for name, ts in times.items():
            med = statistics.median(ts)
            # "vs backproplab": how many times longer the contender took (>1: backproplab is faster).
            rel = med / lib
            diff = f"{diffs[name]:9.1e}" if name in diffs else " " * 9
            log(f"{w.label:<26} {name:<14} {med:9.4f} {min(ts):9.4f} {rel:14.2f}x {diff}")
            rows.append(
                {
                    "workload": w.name,
                    "label": w.label,
                    "contender": name,
                    "median_s": med,
                    "min_s": min(ts),
                    "times_s": ts,
                    "ratio": rel,
                    "max_param_diff": diffs.get(name),
                }
            )
    return rows


def print_targets(rows: list[dict], log: Callable[[str], None]) -> None:
    """Each target against the measured ratio; a peer measured in several settings counts at its fastest."""
    log("\nTargets (ratio = contender time / backproplab time; B2 counts its float64 and float32 rows)")
    for wname, contender, text, ok in TARGETS:
        found = [r for r in rows if r["workload"] == wname and r["contender"].startswith(contender)]
        if not found:
            log(f"  {wname} {text:<36} not measured (workload not run or {contender} unavailable)")
        for label in dict.fromkeys(r["label"] for r in found):
            best = min((r for r in found if r["label"] == label), key=lambda r: r["median_s"])
            verdict = "met" if ok(best["ratio"]) else "MISSED"
            log(f"  {label:<26} {text:<36} ratio {best['ratio']:6.2f}  {verdict}  ({best['contender']})")


def memory_b3(w: Workload, log: Callable[[str], None]) -> dict:
    """Peak memory of one B3 epoch, backproplab vs the hand loop, with the data counted in both."""
    prob = make_problem(w)
    data = prob.X.nbytes + prob.labels.nbytes
    extra = {
        name: peak_memory(prepare(prob))
        for name, prepare in (("backproplab", lib_prepare), ("hand NumPy", hand.prepare_mnist_like))
    }
    lib, ref = data + extra["backproplab"], data + extra["hand NumPy"]
    log(f"\nB3 peak memory (data {data / 2**20:.1f} MiB held by both, plus what training allocates):")
    for name, e in extra.items():
        log(f"  {name:<12} {(data + e) / 2**20:8.1f} MiB  (training allocates {e / 2**20:7.2f} MiB)")
    ok = "met" if lib <= 1.5 * ref else "MISSED"
    log(f"  ratio {lib / ref:.3f} (target <= 1.5: {ok})")
    return {"data_bytes": data, "extra_bytes": extra, "ratio": lib / ref}


# --- scaling sweeps ---------------------------------------------------------------------


def sweep(workloads: list[Workload], have: dict, repeats: int, skip: set[str], log) -> dict[str, list]:
    """Median seconds of each contender on each workload, for a figure."""
    out: dict[str, list] = {}
    for w in workloads:
        prob = make_problem(w)
        chosen = {k: v for k, v in contenders(w, have).items() if k not in skip}
        times, results = time_all(prob, chosen, repeats)
        check_agreement(results, w.dtype, w.label)
        for name, ts in times.items():
            out.setdefault(name, []).append(statistics.median(ts))
        log(f"  {w.label:<30} " + "  ".join(f"{k} {statistics.median(v):.4f}s" for k, v in times.items()))
    return out


def plot_scaling(b2_runs, b2_times, b3_widths, b3_times, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    names = list(dict.fromkeys(name for name, _ in b2_times) | dict.fromkeys(b3_times))
    color = {name: f"C{i}" for i, name in enumerate(names)}  # one colour per contender in both panels
    for (label, dtype), ts in b2_times.items():
        style = "-" if dtype == "float64" else "--"
        ax1.loglog(b2_runs, np.asarray(ts) * 1e3, style, color=color[label], marker="o", ms=3, label=f"{label} {dtype}")
    ax1.set_xlabel("stacked networks R (XOR 2-8-1)")
    ax1.set_ylabel("ms per epoch (median)")
    ax1.set_title("B2: time against the number of runs")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)
    for label, ts in b3_times.items():
        ax2.loglog(b3_widths, ts, color=color[label], marker="o", ms=3, label=label)
    ax2.set_xlabel("first hidden width w (784-w-w/2-10)")
    ax2.set_ylabel("seconds per epoch (median)")
    ax2.set_title("B3: time against width (float32, batch 128)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- the machine ------------------------------------------------------------------------


def machine(have: dict) -> dict:
    """What the numbers were measured on."""
    from threadpoolctl import threadpool_info

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
    except OSError:
        model = platform.processor() or "?"
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    info = {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": "; ".join(blas) or "?",
        "backproplab": bp.__version__,
        "torch": have["torch"],
        "sklearn": have["sklearn"],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "loadavg_start": os.getloadavg()[0],
    }
    if have["torch"]:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per contender (median reported)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads and sweeps: a smoke run, not a result")
    parser.add_argument("--only", default="B1,B2,B3", help="comma-separated workloads to time (default all)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the scaling sweeps and the figure")
    parser.add_argument("--no-memory", action="store_true", help="skip B3's peak memory")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="folder for results.json and scaling.png")
    parser.add_argument(
        "--threads", type=int, help="limit the BLAS and PyTorch thread pools (default: their own, one per core)"
    )
    args = parser.parse_args(argv)
    only = {s.strip().upper() for s in args.only.split(",")}

    lines: list[str] = []

    def log(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    have = peers.available()
    if args.threads:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(args.threads)  # in force until the process ends
        if have["torch"]:
            import torch

            torch.set_num_threads(args.threads)
    info = machine(have)
    for name, version in have.items():
        if version is None:
            log(f"note: {name} cannot be imported; its rows are skipped (pip install -e '.[bench]', torch==2.13.0)")
    log("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    log(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")

    epochs = 300 if args.quick else 2000
    rows_b3 = 12_800 if args.quick else 60_000
    workloads = [b1(epochs), b2(1000, epochs), b2(1000, epochs, "float32"), b3(rows_b3)]
    workloads = [w for w in workloads if w.name in only]
    rows = run_table(workloads, have, args.repeats, log)
    print_targets(rows, log)
    memory = None if args.no_memory or "B3" not in only else memory_b3(b3(rows_b3), log)

    results = {"machine": info, "rows": rows, "memory_b3": memory}
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_sweep:
        sweep_repeats = max(3, args.repeats // 2)
        runs = [1, 10, 100, 1000, 3000, 10_000] if not args.quick else [1, 100, 1000]
        sweep_epochs = 20 if args.quick else 100
        log(f"\nB2 sweep: seconds for {sweep_epochs} epochs (median)")
        b2_times: dict[tuple[str, str], list[float]] = {}
        for dtype in ("float64", "float32"):
            per = sweep([b2(r, sweep_epochs, dtype) for r in runs], have, sweep_repeats, {"scikit-learn"}, log)
            for name, ts in per.items():
                b2_times[(name, dtype)] = [t / sweep_epochs for t in ts]
        widths = [64, 128, 256, 512, 1024] if not args.quick else [64, 256]
        log("\nB3 sweep: seconds for one epoch of 10,240 rows (80 batches, median)")
        b3_times = sweep([b3(10_240, wd) for wd in widths], have, sweep_repeats, set(), log)
        plot_scaling(runs, b2_times, widths, b3_times, args.out / "scaling.png")
        results["sweep"] = {
            "b2_runs": runs,
            "b2_s_per_epoch": {f"{k[0]} {k[1]}": v for k, v in b2_times.items()},
            "b3_widths": widths,
            "b3_s": b3_times,
        }
        log(f"figure: {args.out / 'scaling.png'}")
    info["loadavg_end"] = os.getloadavg()[0]
    log(f"\nload average (1 min): {info['loadavg_start']:.2f} at start, {info['loadavg_end']:.2f} at end")
    bp_io.write_text(args.out / "results.json", json.dumps(results, indent=1, default=str))
    bp_io.write_text(args.out / "results.txt", "\n".join(lines) + "\n")
    if args.threads:
        limits.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
