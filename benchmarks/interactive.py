"""How fast the interactive page answers a slider move, measured in the browser.

For sigmoid MLPs with 2 inputs and mse loss (weight w1_1_1), writes `pathgrad page`, opens
it in Debian's chromium (Playwright, no browser download) and moves one slider N times.
Each move is timed with performance.now() inside the page: from dispatching the slider's
`input` event to the end of the style and layout work it causes (the handler recomputes
every node value, local partial, path value, share, δ and ṫ, and rewrites the table and the
picture; reading offsetHeight forces the layout). Prints the median move, the median of its
script part alone (the input handler) and the slowest move.

Run: .venv/bin/python benchmarks/interactive.py [--moves N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pathgrad.render.interactive import page
from pathgrad.spec import load

NETS = [  # (label, hidden widths): paths from w1_1_1 = product of the widths after layer 1
    ("2-4-4-1", [4, 4]),
    ("2-10×4-1", [10, 10, 10, 10]),
]
WEIGHT = "w1_1_1"

MOVE = """([name, n]) => {
  const slider = document.querySelector(`input[data-slider="${name}"]`);
  const lo = Number(slider.min), hi = Number(slider.max);
  const times = [];
  for (let i = 0; i < n; i++) {
    slider.value = String(lo + (hi - lo) * ((i * 37) % 100) / 100);
    const t0 = performance.now();
    slider.dispatchEvent(new Event("input"));  // the page's handler: all the arithmetic + DOM
    const t1 = performance.now();
    void document.body.offsetHeight;  // the style and layout the update causes
    times.push([performance.now() - t0, t1 - t0]);
  }
  return times;
}"""


def spec_text(hidden: list[int]) -> str:
    layers = ", ".join(str(w) for w in [*hidden, 1])
    return ("inputs: {x1: 0.5, x2: -0.3, y: 1}\n"
            f"mlp: {{inputs: [x1, x2], layers: [{layers}], activation: sigmoid, loss: mse}}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=60)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    table = Table(title=f"slider moves in chromium, {args.moves} moves each (milliseconds)")
    for col in ("net", "names", "paths", "edges", "page KB", "build s", "median ms",
                "of it script", "slowest ms"):
        table.add_column(col, justify="right" if col != "net" else "left")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                     args=["--no-sandbox"])
        for label, hidden in NETS:
            spec = load(spec_text(hidden))
            start = time.perf_counter()
            html = page(spec, WEIGHT)
            built = time.perf_counter() - start
            target = Path(tmp) / "page.html"
            target.write_text(html, encoding="utf-8")
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(target.as_uri())
            tab.wait_for_function("window.pathgradPage !== undefined")
            paths = tab.evaluate("() => document.querySelectorAll('[data-path]').length")
            tab.evaluate(MOVE, ["w2_1_1", 5])  # warm up the JIT
            times = tab.evaluate(MOVE, ["w2_1_1", args.moves])
            edges = tab.evaluate("() => document.querySelectorAll('path.edge').length")
            tab.close()
            table.add_row(label, f"{len(spec.names):,}", f"{paths:,}", f"{edges:,}",
                          f"{len(html) / 1024:,.0f}", f"{built:.2f}",
                          f"{statistics.median(t for t, _ in times):.1f}",
                          f"{statistics.median(s for _, s in times):.1f}",
                          f"{max(t for t, _ in times):.1f}")
        browser.close()
    console = Console(width=110)
    console.print(table)
    busy = os.getloadavg()[0]
    console.print(f"chromium headless, {platform.machine()}, {os.cpu_count()} CPUs, load "
                  f"average {busy:.1f} while measuring, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
