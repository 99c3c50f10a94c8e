"""Long chains and wide max/min: results (or one line) in seconds, checked against oracles.

- a chain thousands of nodes deep: near the loss the usual proof; far from it, no sympy object
  that deep is built (Python's recursion limit) and finite differences check the sum;
- max/min of many arguments: sympy's pairwise simplification is skipped, the derivative is
  the same (checked against sympy's own on a size it handles, and against differences);
- long tables and paths in the terminal are shown by their ends, with the count elided.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from float_oracle import central_difference

from pathgrad import load
from pathgrad.analyses.explanation import explain
from pathgrad.calculus import MAX, MIN, WIDE, partial
from pathgrad.render.numbers import float_values
from pathgrad.spec.model import apply_values
from pathgrad.verify import proof

ROOT = Path(__file__).resolve().parents[1]


def chain(n: int, body: str = "sin({h}) + x") -> str:
    """h1 = w·x, h_i = body(h_{i−1}) (sin(h_{i−1}) + x), h_n = v·h_{n−1}, E = h_n²."""
    lines = ["params: {w: 0.5, v: 0.2}", "inputs: {x: 0.3}", "nodes:", "  h1: w*x"]
    lines += [f"  h{i}: " + body.format(h=f"h{i - 1}") for i in range(2, n)]
    lines += [f"  h{n}: v*h{n - 1}", f"  E: h{n}^2"]
    return "\n".join(lines) + "\n"


def run(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    spec = tmp_path / "net.yaml"
    spec.write_text(text)
    return subprocess.run([sys.executable, "-m", "pathgrad", args[0], str(spec), *args[1:]],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_deep_chain_near_the_loss_is_proved_as_usual(tmp_path):
    data = json.loads(run(tmp_path, chain(3000), "explain", "-w", "v", "-f", "json").stdout)
    assert data["verified"] is True and data["method"] in ("exact", "modular")
    assert data["path_count"] == 1
    h = float_values(load(chain(3000)), apply_values(load(chain(3000)), None))["h2999"]
    assert data["value"] == pytest.approx(2 * 0.2 * h * h, rel=1e-12)  # ∂(v·h)²/∂v = 2vh²


def test_far_from_the_loss_a_deep_chain_is_checked_by_differences(tmp_path):
    gentle = chain(1000, "{h} + sin({h})/1000")  # each factor 1 + cos(h)/1000: no underflow
    proc = run(tmp_path, gentle, "explain", "-w", "w", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["verified"] is True and data["method"] == "finite-difference"
    assert "nests 1,001 nodes deep" in data["verification"]["detail"]
    assert data["value"] == pytest.approx(central_difference(load(gentle), "w"), rel=1e-6)
    text = run(tmp_path, gentle, "explain", "-w", "w").stdout
    assert "so none is shown" in text and "Traceback" not in text


def test_a_gradient_below_the_smallest_float_is_not_printed_as_0(tmp_path):
    # ∂E/∂w = 2v²·h1000·x·Π cos(h_i): about 10^−499, past a double's 10^−308
    data = json.loads(run(tmp_path, chain(1000), "explain", "-w", "w", "-f", "json").stdout)
    assert data["value"] is None and data["verified"] is True
    assert data["value_note"].startswith("too small for a float (9.0")
    assert data["value_note"].endswith("e-499)")


def test_a_chain_below_the_depth_limit_keeps_its_direct_derivative(tmp_path):
    n = proof.DEPTH_LIMIT // 2
    ex = explain(load(chain(n)), "w")
    assert ex.direct_computed and ex.verified
    assert ex.verification.method in ("exact", "modular")


@pytest.mark.parametrize("cls", [sp.Max, sp.Min])
@pytest.mark.parametrize("n", [WIDE + 1, 8])
def test_wide_max_min_mean_what_sympy_means(cls, n):
    xs = sp.symbols(f"p0:{n}", real=True)
    ours = (MAX if cls is sp.Max else MIN)(*xs)
    assert ours == cls(*xs)  # the same object sympy builds when it drops nothing
    # numbers fold and repeats go, as sympy's own rules
    assert (MAX if cls is sp.Max else MIN)(*xs, xs[0], 2, 3) == cls(*xs, 2, 3)
    e = ours**2 + xs[1] * ours
    for x in xs[:3]:
        assert sp.simplify(partial(e, x) - sp.diff(e, x)) == 0


def test_max_of_sixty_arguments_is_quick_and_right(tmp_path):
    n = 60
    params = ", ".join(f"p{i}: {i / 10}" for i in range(n))
    args = ", ".join(f"p{i}" for i in range(n))
    text = f"params: {{{params}}}\nnodes: {{h: 'max({args})', E: 'h*p59 + h^2'}}\n"
    proc = run(tmp_path, text, "explain", "-w", "p59", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["verified"] is True
    spec = load(text)
    assert data["value"] == pytest.approx(central_difference(spec, "p59"), rel=1e-6)
    # h = max = p59 = 5.9 (no tie): ∂E/∂p59 = h + p59 + 2h = 23.6
    assert data["value"] == pytest.approx(3 * 5.9 + 5.9, rel=1e-12)


def test_a_long_backprop_table_keeps_its_ends(tmp_path):
    text = "residual: {input: x, blocks: 300}\ninputs: {x: 0.5, y: 1}\n"
    out = run(tmp_path, text, "backprop", "-w", "w1").stdout
    numbers = [int(m[1]) for m in re.finditer(r"^\s*(\d+)\s+δ_", out, re.M)]
    total = 3 * 300 + 2  # δ of E, of a, h, z in every block, and of w1 itself
    assert numbers[:3] == [1, 2, 3] and numbers[-1] == total
    assert len(numbers) == 400
    assert f"{total - 400:,} more rows; --format json" in out
    data = json.loads(run(tmp_path, text, "backprop", "-w", "w1", "-f", "json").stdout)
    assert len(data["steps"]) == total


def test_a_long_path_is_shown_by_its_ends(tmp_path):
    text = "residual: {input: x, blocks: 60}\ninputs: {x: 0.5, y: 1}\n"
    data = json.loads(run(tmp_path, text, "explain", "-w", "w1", "--top", "1", "-f",
                          "json").stdout)
    nodes = data["paths"][0]["nodes"]
    assert len(nodes) > 40  # the skip-every-block path: w1 → z1 → h1 → a1 → … → a60 → E
    spec = tmp_path / "net.yaml"
    out = subprocess.run([sys.executable, "-m", "pathgrad", "explain", str(spec), "-w", "w1",
                          "--top", "1"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "COLUMNS": "1000"}).stdout  # one line per column
    shown = " → ".join(nodes[:16]) + f" → … {len(nodes) - 24:,} more … → " + " → ".join(
        nodes[-8:])
    assert shown in out, out
    assert f"… {len(nodes) - 1 - 24:,} more …" in out  # the chain's factors, likewise


@pytest.mark.parametrize("func", ["sigmoid", "relu", "softplus", "tanh", "exp", "sin", "cos"])
def test_the_quick_partial_of_a_term_f_of_u_is_sympys(func):
    from pathgrad.calculus import Network

    spec = load(f"params: {{u: 0.3, v: 0.2}}\nnodes: {{h: '{func}(u) + v*u', E: 'h^2'}}\n")
    net = Network(spec)
    assert net._quick_partial("v", "h") is not None  # the path taken
    for u in ("v",):
        expected = sp.diff(net.exprs["h"], net.symbols[u])
        assert sp.simplify(net._quick_partial(u, "h") - expected) == 0
    spec = load(f"params: {{u: 0.3, v: 0.2}}\nnodes: {{h: '{func}(u) + v', E: 'h^2'}}\n")
    net = Network(spec)
    quick = net._quick_partial("u", "h")
    assert quick is not None and quick == sp.diff(net.exprs["h"], net.symbols["u"])
