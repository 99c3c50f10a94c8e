"""How fast pathgrad refuses bad input, and how fast it reads large input.

Prints two tables: every case of tests/bad_specs/ run through the CLI in-process (time to the
`Error:` line, exit status), and `pathgrad.load` on large generated specs (seconds, peak memory
of the load). Run: .venv/bin/python benchmarks/hostile.py [--subprocess]

With --subprocess the corpus also runs as `python -m pathgrad …` (interpreter start included).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from click.testing import CliRunner

import pathgrad
from pathgrad.cli import cli
from pathgrad.errors import PathgradError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bad_specs"


def corpus_args(path: Path) -> list[str]:
    run = "explain {file} --weight w"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line[1:].strip().startswith("run:"):
            run = line.split(":", 1)[1].strip()
    return [a.replace("{file}", str(path)) for a in shlex.split(run)]


def corpus(subprocesses: bool) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["show", str(ROOT / "examples" / "olah.yaml")])  # imports, once
    rows = []
    for path in sorted(CORPUS.glob("*.yaml")):
        args = corpus_args(path)
        start = time.perf_counter()
        result = runner.invoke(cli, args)
        in_process = time.perf_counter() - start
        row = [path.stem, f"{path.stat().st_size:,}", f"{1000 * in_process:.1f}",
               str(result.exit_code)]
        if subprocesses:
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pathgrad", *args], capture_output=True,
                                  timeout=30)
            row += [f"{time.perf_counter() - start:.2f}", str(done.returncode)]
        rows.append(row)
    head = ["case", "bytes", "ms", "exit"] + (["process s", "exit"] if subprocesses else [])
    table(head, rows)
    times = sorted(float(r[2]) for r in rows)
    print(f"\n{len(rows)} cases: median {times[len(times) // 2]:.1f} ms, slowest "
          f"{times[-1]:.1f} ms; {sum(r[3] == '2' for r in rows)} exit with status 2\n")


LARGE = {
    "10,000 nodes": lambda: "params: {w: 1}\nnodes:\n"
    + "".join(f"  n{i}: w*{i} + n{i - 1}\n" for i in range(1, 10_000)) + "  n0: w\n",
    "100,000 nodes": lambda: "params: {w: 1}\nnodes:\n"
    + "".join(f"  n{i}: w*{i} + n{i - 1}\n" for i in range(1, 100_000)) + "  n0: w\n",
    "100,000 params (list)": lambda: "params: [" + ", ".join(f"w{i}" for i in range(100_000))
    + "]\nnodes: {E: w0}\n",
    "300,000 params (list)": lambda: "params: [" + ", ".join(f"w{i}" for i in range(300_000))
    + "]\nnodes: {E: w0}\n",
    "4.9 MB comment": lambda: "params: {w: 1}\nnodes: {E: w}\n# " + "x" * 4_900_000 + "\n",
    "6 MB file (refused)": lambda: "params: {w: 1}\nnodes: {E: w}\n# " + "x" * 6_000_000 + "\n",
    "one 10 kB expression": lambda: "params: {w: 1}\nnodes:\n  E: "
    + "+".join(["w"] * 4_999) + "\n",
    "one 800 kB expression (refused)": lambda: "params: {w: 1}\nnodes:\n  E: "
    + "+".join(["w"] * 400_000) + "\n",
    "billion laughs (refused)": lambda: "\n".join(
        [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)])
    + "\nnodes: {E: w}\n",
}


def large() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, make in LARGE.items():
            path = Path(folder) / "net.yaml"
            path.write_text(make(), encoding="utf-8")
            start = time.perf_counter()
            outcome = load(path)
            seconds = time.perf_counter() - start
            tracemalloc.start()  # a second load, traced: tracing slows it several times over
            load(path)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rows.append([name, f"{path.stat().st_size:,}", f"{seconds:.2f}",
                         f"{peak / 2**20:.0f}", outcome])
    table(["input", "bytes", "load s", "peak MiB", "outcome"], rows)


def load(path: Path) -> str:
    try:
        return f"{len(pathgrad.load(path).names):,} names"
    except PathgradError as exc:
        return exc.message[:50]


def table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "120")
    corpus("--subprocess" in sys.argv)
    large()
