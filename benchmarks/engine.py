"""The direct derivative at every size pathgrad allows: issue 15's table, measured in one run.

Rows (seconds; ratios measured side by side in this process, alternating, sympy's cache cleared
before each run; a subprocess that takes over TIMEOUT seconds is reported as such):

1. `explain --format json` on a sigmoid mlp [10]*5+[1] from w1_1_1 (10⁴ paths): the whole
   command as a subprocess, and explain() alone in-process; the verdict must name a computed
   direct derivative (no finite-difference fallback).
2. explain() on the 4×8 sigmoid mlp (512 paths) ÷ bare sympy.diff of the same composed loss.
3. `pathgrad show` on mlp [64]*50+[1] (64^49 paths), a subprocess, interpreter start included.
4. explain() from a weight near the loss of a ≈ 300k-param spec (mlp [64]*72+[1]) after
   loading, the load itself, and the whole command.
5. `pathgrad gradient` of every param, verified, mlp [16]*10+[1] — run only if that command
   exists (another issue builds it).

Run: .venv/bin/python benchmarks/engine.py [--repeat N] [--quick]   (--quick: rows 1–2)
"""

from __future__ import annotations

import gc
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

import symengine
import sympy as sp
from sympy.core.cache import clear_cache

from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network
from pathgrad.spec import load

WEIGHT = "w1_1_1"


def mlp(hidden: list[int], inputs: int = 2, activation: str = "sigmoid") -> str:
    names = ", ".join(f"x{i}" for i in range(1, inputs + 1))
    values = ", ".join(f"x{i}: {0.5 if i % 2 else -0.3}" for i in range(1, inputs + 1))
    return (f"mlp:\n  inputs: [{names}]\n  layers: {[*hidden, 1]}\n  activation: {activation}\n"
            f"  targets: [y1]\n  init: {{seed: 0}}\ninputs: {{{values}, y1: 0.8}}\n")


CPU: dict[str, float] = {}  # the CPU seconds of the last timed() / run(): steadier than wall
# time on a shared machine, where other processes take turns on the same cores


def timed(fn: Callable[[], object]) -> float:
    clear_cache()  # sympy's cache would make every run after the first look cheaper
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    CPU["last"] = time.process_time() - cpu
    return time.perf_counter() - start


TIMEOUT = 300.0  # seconds a whole command may take here before the row says so


def run(*args: str, code: str | None = None) -> float:
    """Seconds for `pathgrad ARGS` (or a Python snippet) as a subprocess; inf past TIMEOUT."""
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "pathgrad", *args]
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        CPU["last"] = float("inf")
        return float("inf")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start


def with_cpu(wall: float) -> str:
    """'1.23 s (CPU 0.98 s)': a wall time and the CPU time of the last run measured."""
    return f"{fmt(wall)} s (CPU {fmt(CPU['last'])} s)"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} CPUs ({cpu}), load {load_avg:.1f}, Python "
            f"{platform.python_version()}, sympy {sp.__version__}, symengine "
            f"{symengine.__version__}, {platform.system()}")


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt(x: float) -> str:
    if x == float("inf"):
        return f"over {TIMEOUT:.0f}"
    return f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def row(what: str, before: str, measured: str, target: str, met: bool | None) -> str:
    mark = "—" if met is None else ("yes" if met else "NO")
    return f"| {what} | {before} | {measured} | {target} | {mark} |"


def paths_10k(folder: Path, repeat: int) -> list[str]:
    path = folder / "mlp10x5.yaml"
    path.write_text(mlp([10] * 5))
    spec = load(path)
    method: dict[str, str] = {}

    def inproc() -> None:
        ex = explain(spec, WEIGHT, network=Network(spec, spec.graph))
        assert ex.verified, ex.verification.detail
        method["m"], method["d"] = ex.verification.method, str(ex.verification.derivative)

    alone = [timed(inproc) for _ in range(repeat)]
    whole = [run("explain", str(path), "-w", WEIGHT, "-f", "json")]  # once: it can be slow
    ok = method["m"] != "finite-difference" and method["d"] != "None"
    return [
        row("explain --format json, mlp [10]*5+[1] from w1_1_1 (10⁴ paths), whole command",
            "37 s, fallback", f"{with_cpu(med(whole))}, {method['m']} against {method['d']}",
            "≤ 3 s, no fallback", med(whole) <= 3 and ok),
        row("… explain() alone, in-process (listing, products, symengine, verification, "
            "numbers)", "—", with_cpu(med(alone)), "—", None),
    ]


def ratio_4x8(repeat: int) -> list[str]:
    spec = load(mlp([8] * 4))
    ex_times, diff_times = [], []

    def bare() -> None:
        net = Network(spec, spec.graph)
        composed = net.compose(spec.loss, free=WEIGHT)
        sp.diff(composed[spec.loss], net.symbols[WEIGHT])

    for _ in range(repeat):  # alternate, so drift in machine load hits both alike
        ex_times.append(timed(lambda: explain(spec, WEIGHT, network=Network(spec, spec.graph))))
        diff_times.append(timed(bare))
    ratio = med(ex_times) / med(diff_times)
    return [row("explain, 4×8 sigmoid mlp (512 paths) ÷ bare sympy.diff of the same composed "
                "loss", "≈ 1.0–1.4×", f"{ratio:.3f}× ({fmt(med(ex_times))} s ÷ "
                f"{fmt(med(diff_times))} s)", "≤ 0.15×", ratio <= 0.15)]


def show_64x50(folder: Path, repeat: int) -> list[str]:
    path = folder / "mlp64x50.yaml"
    path.write_text(mlp([64] * 50, inputs=64, activation="tanh"))
    times = [run("show", str(path)) for _ in range(repeat)]
    return [row("show, mlp [64]*50+[1] (64^49 paths), whole command", "4.7–5.8 s",
                with_cpu(med(times)), "≤ 2 s", med(times) <= 2)]


def near_loss_300k(folder: Path, repeat: int) -> list[str]:
    path = folder / "mlp64x72.yaml"  # 299,585 params
    path.write_text(mlp([64] * 72, inputs=64))
    weight = "w73_1_1"  # the output unit's first weight: one path, next to the loss
    load_only = f"from pathgrad.spec import load; load({str(path)!r})"
    loaded = run(code=load_only)
    cpu_loaded = CPU["last"]
    both = run(code=load_only.replace("load(", "spec = load(") + "; from pathgrad.analyses."
               f"explanation import explain; explain(spec, {weight!r})")
    CPU["last"] -= cpu_loaded
    alone = both - loaded
    text = with_cpu(alone)
    whole = run("explain", str(path), "-w", weight, "-f", "json")
    return [
        row(f"explain() from {weight} of a 299,585-param spec (mlp [64]*72+[1]), after "
            "loading (two subprocesses' difference)", "≈ 16 s", text, "≤ 2 s", alone <= 2),
        row("… loading that spec; the whole `explain -f json` command", "—",
            f"{fmt(loaded)} s (CPU {fmt(cpu_loaded)} s); {with_cpu(whole)}", "—", None),
    ]


def gradient_16x10(folder: Path, repeat: int) -> list[str]:
    probe = subprocess.run([sys.executable, "-m", "pathgrad", "gradient", "--help"],
                           capture_output=True)
    if probe.returncode != 0:
        return [row("`pathgrad gradient` of every param, verified, mlp [16]*10+[1]", "—",
                    "not run: no `pathgrad gradient` command yet", "≤ 3 s", None)]
    path = folder / "mlp16x10.yaml"
    path.write_text(mlp([16] * 10))
    times = [run("gradient", str(path)) for _ in range(repeat)]
    return [row("`pathgrad gradient` of every param, verified, mlp [16]*10+[1]", "—",
                f"{fmt(med(times))} s", "≤ 3 s", med(times) <= 3)]


def main(argv: list[str]) -> None:
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    print(f"machine: {machine()}; medians of {repeat} runs", flush=True)
    rows = ["| what | before (issue 15) | now | target | met |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        steps = [lambda: paths_10k(folder, repeat), lambda: ratio_4x8(repeat)]
        if "--quick" not in argv:
            steps += [lambda: show_64x50(folder, repeat), lambda: near_loss_300k(folder, repeat),
                      lambda: gradient_16x10(folder, repeat)]
        for step in steps:
            for line in step():
                rows.append(line)
                print(line, flush=True)
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
