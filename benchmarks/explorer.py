"""Benchmark: the explorer page of the report's XOR run — its size, and how fast Chromium renders it.

Run on demand (not a test)::

    python benchmarks/explorer.py [--repeat 9] [--chromium /usr/bin/chromium]

It records the report's XOR run (2-8-1 sigmoid, SGD lr 0.1, batch 4, 2000
epochs, seed 0: the config shipped as ``xor``), writes its explorer, then opens
the file from disk in headless Chromium ``--repeat`` times, each in a fresh
browser context, and reads the page's own clock: ``window.bpRenderedAt`` is
``performance.now()`` just after the first complete render, i.e. milliseconds
since navigation started (parsing the embedded data, decoding it, drawing every
panel). It also times redrawing every frame through the slider, the work of
one step of 'play'. Medians, minimum and maximum are printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from backproplab.experiments.config import load_config
from backproplab.web import write_explorer
from backproplab.web.runs import record_config

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    t0 = time.perf_counter()
    recording, _ = record_config(load_config("xor"))
    record_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = write_explorer(recording, Path(tmp) / "xor.html")
        export_s = time.perf_counter() - t0
        size = path.stat().st_size
        first_render, load_event, per_frame = [], [], []
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
            for _ in range(args.repeat):
                context = browser.new_context(viewport={"width": 1400, "height": 1100})
                page = context.new_page()
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_selector("body[data-ready='1']")
                first_render.append(page.evaluate("window.bpRenderedAt"))
                load_event.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
                per_frame.append(page.evaluate("""() => {
                    const s = document.getElementById('epoch'), n = Number(s.max) + 1, t = performance.now();
                    for (let f = 0; f < n; f++) { s.value = f; s.dispatchEvent(new Event('input')); }
                    return (performance.now() - t) / n;
                }"""))
                context.close()
            browser.close()

    def row(name: str, values: list[float], unit: str = "ms") -> str:
        return (f"| {name} | {statistics.median(values):.1f} {unit} | {min(values):.1f} | {max(values):.1f} |")

    print(f"explorer of the report's XOR run: {recording.n_frames} frames, {recording.meta['epochs']} epochs")
    print(f"file size: {size:,} bytes ({size / 2**20:.2f} MiB; budget 2 MB)")
    print(f"record (train 2000 epochs with the recorder): {record_s * 1000:.0f} ms; export: {export_s * 1000:.0f} ms")
    print(f"\nChromium headless, {args.repeat} loads from disk, each in a fresh context:\n")
    print("| measure | median | min | max |\n|---|---|---|---|")
    print(row("navigation start -> first full render", first_render))
    print(row("navigation start -> load event end", load_event))
    print(row("redraw one frame (slider input)", per_frame))


if __name__ == "__main__":
    main()
