"""Two costs of hostile input (issue 20): the playground's memory under a 200 MB post, the time to refuse a huge sweep.

    python benchmarks/hostile_bench.py [--repeats 7]

1. The playground server is started as a process; a client posts a 200 MB body to
   ``/api/settings`` (``Content-Length`` given, the body sent in 1 MiB pieces) while
   the server's resident memory (``VmRSS``) is sampled every 10 ms. Printed: idle,
   peak, peak above idle, and the status the server answered. Goal: under 100 MB
   above idle (it read the body whole before: 400 MB above idle here, 1 GB in the issue).
2. ``bp.sweep`` of four 178-value axes (178**4 = 1,003,875,856 cells) is timed until
   it refuses, in this process (the package already imported), wall and CPU. Goal:
   under 1 s (listing the cells took minutes before).

Linux only (``/proc``). Needs the ``web`` extra for part 1.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import threading
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def playground_memory(size: int = 200 * 2**20) -> str:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "backproplab", "playground", "--no-browser", "--port", str(port),
                             "-q"])
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        idle = peak = rss_kib(proc.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_kib(proc.pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(f"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {size}\r\n\r\n".encode())
            sent = 0
            try:
                while sent < size:
                    conn.sendall(b"1" * 2**20)
                    sent += 2**20
            except OSError:  # the server may close the connection once it has answered
                pass
            conn.settimeout(30)
            try:
                reply = conn.recv(200).split(b"\r\n")[0].decode()
            except OSError as exc:
                reply = f"no reply ({exc})"
        time.sleep(0.5)
        done.set()
        sampler.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return (f"playground, {size / 2**20:.0f} MiB post: idle {idle / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
            f"{(peak - idle) / 1024:.1f} MiB above idle; answered {reply}")


def refusal_time(repeats: int) -> str:
    import backproplab as bp

    grid = {f"training.{key}": list(range(1, 179)) for key in ("lr", "epochs", "batch_size", "lr_step")}
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        with contextlib.suppress(bp.BackproplabError):
            bp.sweep("xor", grid)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return (f"refusing a sweep of 1,003,875,856 cells: wall median {statistics.median(walls):.3f} s "
            f"(min {min(walls):.3f}, max {max(walls):.3f}), CPU median {statistics.median(cpus):.3f} s, "
            f"{repeats} repeats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(playground_memory())
    print(refusal_time(args.repeats))


if __name__ == "__main__":
    main()
