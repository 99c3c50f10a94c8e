"""Past listing: how pathgrad scales with the size of a sigmoid MLP (2 inputs, mse loss).

For each net, with w1_1_1 (a first-layer weight) as the weight, prints the median seconds of:

- count:     the exact path counts to the loss for every name (Graph.path_counts' DP)
- top-10:    `explain --top 10` in-process (search + table rendering)
- backprop:  `pathgrad backprop` in-process (numeric and symbolic in node names + table)
- explain:   `explain --format json` in-process, verification included (nets it can list)
- diff:      plain `sympy.diff` of the same composed loss (explain uses symengine's derivative,
             and sympy.diff's too on small nets; benchmarks/engine.py has issue 15's table)
- ratio:     explain / diff, runs alternated in one process, sympy's cache cleared before each
- show:      `pathgrad show` as a subprocess, interpreter start included (the biggest net)

Run: .venv/bin/python benchmarks/scale.py [--repeat N] [--quick]
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sympy as sp
from rich.console import Console
from sympy.core.cache import clear_cache

from pathgrad.analyses.backprop import backprop
from pathgrad.analyses.explanation import explain
from pathgrad.analyses.toppaths import top_paths
from pathgrad.calculus import Network
from pathgrad.graph import count_paths
from pathgrad.render import backprop_table, jsonout, toppaths_table
from pathgrad.spec import load

ROOT = Path(__file__).resolve().parent.parent
WEIGHT = "w1_1_1"

# (label, hidden layers, what to run): the core issue's net is 4 hidden layers of width 8
NETS: list[tuple[str, list[int], set[str]]] = [
    ("2-4-4-1", [4, 4], {"count", "top", "backprop", "explain", "diff"}),
    ("2-8×4-1 (core target)", [8] * 4, {"count", "top", "backprop", "explain", "diff"}),
    ("2-8×5-1", [8] * 5, {"count", "top", "backprop", "explain", "diff"}),
    ("2-10×6-1", [10] * 6, {"count", "top", "backprop"}),
    ("2-16×10-1", [16] * 10, {"count", "top", "backprop"}),
    ("2-64×50-1", [64] * 50, {"count", "show"}),
]


def spec_text(hidden: list[int]) -> str:
    """An `mlp:` block: sigmoid units, one bias per unit, mse on one output, seeded values."""
    layers = ", ".join(str(w) for w in [*hidden, 1])
    return ("mlp:\n  inputs: [x1, x2]\n  layers: [" + layers + "]\n  activation: sigmoid\n"
            "  bias: unit\n  loss: mse\n  targets: [y1]\n  init: {seed: 0}\n"
            "inputs: {x1: 0.5, x2: -0.3, y1: 0.8}\n")


def timed(fn: Callable[[], object]) -> float:
    clear_cache()  # sympy's cache would make every run after the first look cheaper
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(times: list[float]) -> float:
    return statistics.median(times)


def render(renderable: object) -> None:
    Console(file=open(os.devnull, "w"), width=160, color_system=None).print(renderable)


METHODS: dict[str, str] = {}  # net label → how explain verified


def explain_json(spec: object, label: str) -> None:
    ex = explain(spec, WEIGHT, network=Network(spec, spec.graph))  # type: ignore[arg-type]
    jsonout.dumps(jsonout.explanation(ex))
    assert ex.verified
    METHODS[label] = f"{ex.verification.method} ({ex.verification.derivative})"


def plain_diff(spec: object) -> None:
    net = Network(spec, spec.graph)  # type: ignore[arg-type, attr-defined]
    composed = net.compose(spec.loss, free=WEIGHT)  # type: ignore[attr-defined]
    sp.diff(composed[spec.loss], net.symbols[WEIGHT])  # type: ignore[attr-defined]


def show_subprocess(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pathgrad", "show", str(path)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"sympy {sp.__version__}, {platform.system()}")


def fmt(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f}" if x >= 0.1 else f"{x:.3f}")


def measure(label: str, hidden: list[int], what: set[str], repeat: int, folder: Path) -> str:
    """One row of the table."""
    path = folder / "net.yaml"
    path.write_text(spec_text(hidden))
    spec = load(path)
    paths = spec.graph.path_counts(spec.loss)[WEIGHT]
    cells: dict[str, float | None] = dict.fromkeys(
        ("count", "top", "backprop", "explain", "diff", "show"))
    if "count" in what:
        cells["count"] = median([timed(lambda: count_paths(spec.graph, spec.loss))
                                 for _ in range(repeat)])
    if "top" in what:
        cells["top"] = median([timed(lambda: render(toppaths_table.top_paths(
            top_paths(spec, WEIGHT, 10)))) for _ in range(repeat)])
    if "backprop" in what:
        cells["backprop"] = median([timed(lambda: render(backprop_table.backprop(
            backprop(spec, WEIGHT)))) for _ in range(repeat)])
    if "explain" in what:
        ex_times, diff_times = [], []
        for _ in range(repeat):  # alternate, so drift in machine load hits both alike
            ex_times.append(timed(lambda: explain_json(spec, label)))
            diff_times.append(timed(lambda: plain_diff(spec)))
        cells["explain"], cells["diff"] = median(ex_times), median(diff_times)
    if "show" in what:
        cells["show"] = median([show_subprocess(path) for _ in range(repeat)])
    ratio = (f"{cells['explain'] / cells['diff']:.2f}"
             if cells["explain"] and cells["diff"] else "—")
    count = f"{paths:,}" if paths < 10**15 else f"≈ {paths:.2e}"
    return (f"| {label} | {len(spec.params):,} | {count} | {fmt(cells['count'])} | "
            f"{fmt(cells['top'])} | {fmt(cells['backprop'])} | {fmt(cells['explain'])} "
            f"| {METHODS.get(label, '—')} | {fmt(cells['diff'])} | {ratio} "
            f"| {fmt(cells['show'])} |")


def main(argv: list[str]) -> None:
    if {"-h", "--help"} & set(argv):
        print("usage: python benchmarks/scale.py [--quick] [--repeat N]\n"
              "Prints the scaling table of the README (takes a few minutes; --quick: first rows).")
        return
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    nets = NETS[:3] if "--quick" in argv else NETS
    print(f"machine: {machine()}; medians of {repeat} runs", flush=True)
    header = ("| net | params | paths from w1_1_1 | count (s) | top-10 (s) | backprop (s) "
              "| explain json (s) | verified by | sympy.diff (s) | ratio | show (s) |")
    rows = [header, "|" + "---|" * 11]
    with tempfile.TemporaryDirectory() as tmp:
        for label, hidden, what in nets:
            rows.append(measure(label, hidden, what, repeat, Path(tmp)))
            print(rows[-1], flush=True)
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
