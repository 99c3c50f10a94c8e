"""How fast `pathgrad gradient` (every param, each verified) and `pathgrad matrix` are.

For sigmoid MLPs with 2 inputs and mse loss, prints the median seconds of:

- load:      building and checking the spec (the mlp builder)
- gradient:  analyses.gradient.gradient: one reverse sweep over the DAG at 30 digits, the
             Σ|path term| scale, and the check of every param (sympy.diff per param for small
             nets, the complex step for the rest)
- step:      the same with --lr 0.1 (one gradient-descent step: a second point)
- matrix:    analyses.matrix.matrix_form (BP1–BP4, every entry checked three ways), small nets
- cli:       `pathgrad gradient NET -f json` as a subprocess, interpreter start and imports
             included: wall seconds and (in parentheses) the child's CPU seconds

The target of the issue: all params of 2-16×10-1 verified in ≤ 3 s.

Run: .venv/bin/python benchmarks/gradient.py [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sympy as sp
from sympy.core.cache import clear_cache

from pathgrad.analyses.gradient import gradient
from pathgrad.analyses.matrix import matrix_form
from pathgrad.spec import load

ROOT = Path(__file__).resolve().parent.parent

NETS: list[tuple[str, list[int], set[str]]] = [
    ("2-4-4-1", [4, 4], {"matrix", "cli"}),
    ("2-8×4-1", [8] * 4, {"cli"}),
    ("2-16×10-1 (target)", [16] * 10, {"cli"}),
    ("2-32×10-1", [32] * 10, set()),
]


def spec_text(hidden: list[int]) -> str:
    layers = ", ".join(str(w) for w in [*hidden, 1])
    return ("mlp:\n  inputs: [x1, x2]\n  layers: [" + layers + "]\n  activation: sigmoid\n"
            "  bias: unit\n  loss: mse\n  targets: [y1]\n  init: {seed: 0}\n"
            "inputs: {x1: 0.5, x2: -0.3, y1: 0.2}\n")


def median(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        clear_cache()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="only the first three nets")
    args = ap.parse_args()
    nets = NETS[:3] if args.quick else NETS
    rows = []
    for label, hidden, extra in nets:
        text = spec_text(hidden)
        t_load, spec = median(lambda text=text: load(text), args.repeat)
        t_grad, gr = median(lambda spec=spec: gradient(spec), args.repeat)
        assert gr.verified, gr.verification.detail  # type: ignore[attr-defined]
        t_step, _ = median(lambda spec=spec: gradient(spec, lr=0.1), args.repeat)
        t_matrix = "—"
        if "matrix" in extra:
            t, mf = median(lambda spec=spec: matrix_form(spec), args.repeat)
            assert mf.verified  # type: ignore[attr-defined]
            t_matrix = f"{t:.2f}"
        t_cli = "—"
        if "cli" in extra:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
                fh.write(text)
            try:
                exe = str(ROOT / ".venv" / "bin" / "pathgrad")
                cmd = [exe if os.path.exists(exe) else "pathgrad", "gradient", fh.name, "-f",
                       "json"]
                walls, cpus = [], []
                for _ in range(args.repeat):
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t = time.perf_counter()
                    subprocess.run(cmd, check=True, capture_output=True)
                    walls.append(time.perf_counter() - t)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime
                                - before.ru_stime)
                # CPU seconds as well: on a shared machine the wall clock mostly measures the
                # other processes
                t_cli = f"{statistics.median(walls):.2f} ({statistics.median(cpus):.2f} CPU)"
            finally:
                os.unlink(fh.name)
        rows.append((label, f"{len(spec.params):,}", f"{t_load:.2f}",  # type: ignore[attr-defined]
                     f"{t_grad:.2f}", gr.method, f"{t_step:.2f}", t_matrix, t_cli))  # type: ignore
        print(f"  {label}: gradient {t_grad:.2f} s", file=sys.stderr)
    head = ("net", "params", "load", "gradient", "verified by", "+1 step", "matrix", "cli")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\nMachine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"sympy {sp.__version__}, {platform.system()}; medians of {args.repeat} runs, seconds.")


if __name__ == "__main__":
    main()
