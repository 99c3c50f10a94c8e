"""Issue 18's size cases: tiny or plain specs whose work is huge, every command as a user runs it.

Prints one row per (case, command): wall seconds, peak memory of the process (max RSS) and the
exit status, measured as subprocesses (interpreter start included), one after the other; exit
2 is a one-line refusal (too many paths to list, too many names to draw, no values to rank).
Run: .venv/bin/python benchmarks/huge.py [--quick]   (--quick: skip the 10,000-block rows)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chain(n: int) -> str:
    lines = ["params: {w: 0.5, v: 0.2}", "inputs: {x: 0.3}", "nodes:", "  h1: w*x"]
    lines += [f"  h{i}: sin(h{i - 1}) + x" for i in range(2, n)]
    lines += [f"  h{n}: v*h{n - 1}", f"  E: h{n}^2"]
    return "\n".join(lines) + "\n"


def wide(n: int) -> str:
    params = ", ".join(f"p{i}: {i / 10}" for i in range(n))
    return f"params: {{{params}}}\nnodes: {{E: 'max({', '.join(f'p{i}' for i in range(n))})'}}\n"


CASES = {
    # the cases: refused at once by PATHGRAD_MAX_NODES (10,000)
    "residual 10,000 blocks": ("residual: {input: x, blocks: 10000}\ninputs: {x: 0.5, y: 1}\n",
                               "w1"),
    "mlp 1 → 30,000 outputs": ("mlp: {inputs: [x], layers: [30000]}\n", "w1_1_1"),
    "max of 21": (wide(21), "p3"),
    "max of 60": (wide(60), "p3"),
    "chain of 5,000 (weight v, next to the loss)": (chain(5000), "v"),
    "chain of 5,000 (weight w, 5,001 edges away)": (chain(5000), "w"),
    "chain of 20,000 (weight w)": (chain(20000), "w"),
    # the largest specs the default limits let through: 10,000 nodes, a path of 2,000 edges
    "residual 3,333 blocks (10,000 nodes)": (
        "residual: {input: x, blocks: 3333}\ninputs: {x: 0.5, y: 1}\n", "w1"),
    "mlp 1 → 4,999 outputs (9,999 nodes)": ("mlp: {inputs: [x], layers: [4999]}\n", "w1_1_1"),
    "chain of 9,999 (weight w, 10,000 nodes)": (chain(9999), "w"),
    "chain of 1,999 (weight w, 2,000 edges away)": (chain(1999), "w"),
    # wide: 300k params in one line; a 700-700 mlp; the widest cone the limit lets through
    "mlp 72 layers of 64 (weight in the first layer)": (
        "mlp: {inputs: [x], layers: [" + "64, " * 72 + "1]}\ninputs: {x: 0.5, y: 1}\n", "w1_1_1"),
    "mlp 72 layers of 64 (weight next to the loss)": (
        "mlp: {inputs: [x], layers: [" + "64, " * 72 + "1]}\ninputs: {x: 0.5, y: 1}\n", "w73_1_1"),
    "mlp 700-700 (982,101 edges)": ("mlp: {inputs: [x], layers: [700, 700]}\n", "w1_1_1"),
    "mlp 98-98 (19,604 partials from w1_1_1)": (
        "mlp: {inputs: [x], layers: [98, 98]}\ninputs: {x: 0.5}\n", "w1_1_1"),
}
COMMANDS = {
    "show": ["show"],
    "explain": ["explain", "-w"],
    "explain --top 3": ["explain", "-w", None, "--top", "3"],
    "backprop": ["backprop", "-w"],
    "gradient": ["gradient"],
    "lengths": ["lengths", "-w", None, "-o", "{tmp}/lengths.png"],
    "graph": ["graph", "-w", None, "-o", "{tmp}/graph.svg"],
    "page": ["page", "-w", None, "-o", "{tmp}/page.html"],
    "exercise": ["exercise", "-w", None, "-o", "{tmp}/sheet.md"],
}


WHOLE_NET = ("show", "gradient")  # commands without a weight


def run(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of `pathgrad ARGS` (this child's own)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pathgrad", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    quick = "--quick" in sys.argv
    print("| case | command | seconds | peak MB | exit |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (text, weight) in CASES.items():
            if quick and "10,000" in name:
                continue
            path = Path(tmp) / "spec.yaml"
            path.write_text(text)
            for command, shape in COMMANDS.items():
                if command in WHOLE_NET and ("chain of 5,000 (weight w" in name
                                             or "next to the loss)" in name and "mlp" in name):
                    continue  # the same spec as the row above
                args = [shape[0], str(path)]
                if len(shape) > 1:
                    args += ["-w", weight, *shape[3:]] if shape[2:] else ["-w", weight]
                args = [a.replace("{tmp}", tmp) for a in args]
                seconds, peak, status = run(args)
                print(f"| {name} | {command} | {seconds:.1f} | {peak:.0f} | {status} |",
                      flush=True)


if __name__ == "__main__":
    main()
