"""Work is bounded by the size of the input, not by what it expands to: every command on a spec
whose text is tiny but whose expansion is huge ends within a wall-clock budget and a memory
limit, with a result or one clear line and exit status 2 — never a traceback, never the
machine's memory."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMORY = 1_500_000_000  # bytes of address space a command may map (sympy alone maps ~300 MB)
SECONDS = 60  # wall clock, generous for a loaded 2-core CI machine; most finish in seconds

TINY_BUT_HUGE = {
    "residual_10000_blocks": "residual: {input: x, blocks: 10000}\ninputs: {x: 0.5, y: 1}\n",
    "mlp_a_billion_units": "mlp: {inputs: [x], layers: [1000000000]}\n",
    "mlp_100000_units": "mlp: {inputs: [x], layers: [100000]}\n",
    "mlp_30000_targets": "mlp: {inputs: [x], layers: [30000]}\n",
    "rnn_a_million_steps": "rnn: {inputs: [x], steps: 1000000}\n",
    # the largest a default limit lets through (PATHGRAD_MAX_NODES: 10,000 nodes)
    "residual_3333_blocks": "residual: {input: x, blocks: 3333}\ninputs: {x: 0.5, y: 1}\n",
    # 300k params under the limits: backprop from the first layer took 84 s and 1.4 GB
    "mlp_72_layers_of_64": "mlp: {inputs: [x], layers: [" + "64, " * 72 + "1]}\n"
                           "inputs: {x: 0.5, y: 1}\n",
    "max_of_21": "params: {" + ", ".join(f"p{i}: {i / 10}" for i in range(21)) + "}\n"
                 "nodes: {E: 'max(" + ", ".join(f"p{i}" for i in range(21)) + ")'}\n",
}
COMMANDS = {
    "show": ["show", "{file}"],
    "explain": ["explain", "{file}", "--weight", "{weight}"],
    "top": ["explain", "{file}", "--weight", "{weight}", "--top", "3"],
    "backprop": ["backprop", "{file}", "--weight", "{weight}"],
    "expand": ["expand", "{file}"],
}
WEIGHTS = {"residual_10000_blocks": "w1", "residual_3333_blocks": "w1", "max_of_21": "p3",
           "rnn_a_million_steps": "w"}


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _within_budget(args: list[str]) -> subprocess.CompletedProcess:
    """`pathgrad ARGS` under the memory limit and the clock: a result or exit 2, no traceback."""
    try:
        proc = subprocess.run([sys.executable, "-m", "pathgrad", *args], capture_output=True,
                              text=True, cwd=ROOT, timeout=SECONDS, preexec_fn=_limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"pathgrad {' '.join(args)} ran past {SECONDS} s")
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 2), proc.stderr[-2000:]
    return proc


CASES = [(case, command) for case in sorted(TINY_BUT_HUGE) for command in sorted(COMMANDS)]


@pytest.mark.parametrize(("case", "command"), CASES)
def test_tiny_specs_with_huge_expansions_stay_within_budget(tmp_path, case, command):
    spec = tmp_path / f"{case}.yaml"
    spec.write_text(TINY_BUT_HUGE[case])
    args = [a.format(file=spec, weight=WEIGHTS.get(case, "w1_1_1"))
            for a in COMMANDS[command]]
    proc = _within_budget(args)
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        assert lines and lines[0].startswith("Error: "), proc.stderr[-2000:]
        assert len(lines[0]) < 400, lines[0]
        assert "choose a --weight" not in lines[0] or "--weight" in " ".join(args)


def _chain(n: int) -> str:
    links = "".join(f"  h{i}: sin(h{i - 1}) + x\n" for i in range(2, n))
    return f"params: {{w: 0.5, v: 0.2}}\ninputs: {{x: 0.3}}\nnodes:\n  h1: w*x\n{links}" \
           f"  h{n}: v*h{n - 1}\n  E: h{n}^2\n"


# the commands that write a picture, a page or a sheet, and gradient, on the two shapes that
# broke them: a page of 150,000 names ran for minutes, a sheet took 80 s, gradient and
# exercise of a 20,000-link chain gave tracebacks (a gradient below the smallest float)
MORE = [
    ("mlp_30000_targets", ["page", "{file}", "--weight", "w1_1_1", "-o", "{out}.html"]),
    ("mlp_30000_targets", ["exercise", "{file}", "--weight", "w1_1_1", "-o", "{out}.md"]),
    ("mlp_30000_targets", ["graph", "{file}", "--weight", "w1_1_1", "-o", "{out}.svg"]),
    ("mlp_30000_targets", ["lengths", "{file}", "--weight", "w1_1_1", "-o", "{out}.png"]),
    ("mlp_30000_targets", ["gradient", "{file}"]),
    ("chain_20000", ["gradient", "{file}"]),
    ("chain_20000", ["exercise", "{file}", "--weight", "w", "-o", "{out}.md"]),
    ("chain_20000", ["lengths", "{file}", "--weight", "w", "-o", "{out}.png"]),
    ("chain_9999", ["gradient", "{file}"]),  # 10,000 nodes: the largest the limit lets through
    ("chain_9999", ["page", "{file}", "--weight", "w", "-o", "{out}.html"]),
    ("chain_9999", ["lengths", "{file}", "--weight", "w", "-o", "{out}.png"]),
]


@pytest.mark.parametrize(("case", "args"), MORE, ids=[f"{c}-{a[0]}" for c, a in MORE])
def test_writing_commands_stay_within_budget_too(tmp_path, case, args):
    spec = tmp_path / f"{case}.yaml"
    spec.write_text(_chain(int(case[6:])) if case.startswith("chain_") else TINY_BUT_HUGE[case])
    args = [a.format(file=spec, out=tmp_path / "out") for a in args]
    proc = _within_budget(args)
    written = [p for p in tmp_path.iterdir() if p.name.startswith("out")]
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and len(lines[0]) < 400
        assert written == []  # nothing written
