"""Backprop and forward mode: δ values against explain, finite differences and each other;
the cost counts by hand; the CLI's exit codes, guard message and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from randomnets import all_paths, networks
from rich.console import Console

from pathgrad import load
from pathgrad.analyses.backprop import backprop
from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network
from pathgrad.render import backprop_json, backprop_table

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

QUESTION = """name: question
inputs: {x1: 1.0, y: 0.0}
params: {w11: 0.5, w21: -1.2, w22: 0.8, w31: 1.5, w32: -0.7}
nodes:
  a01: sigmoid(w11*x1)
  a11: sigmoid(w21*a01)
  a12: sigmoid(w22*a01)
  Out: w31*a11 + w32*a12
  E: (Out - y)^2 / 2
"""


def central_difference(spec, weight: str) -> float:  # noqa: ANN001
    """sympy's composed loss at w ± 1e-20 at 50 digits: no pathgrad evaluator involved."""
    net = Network(spec)
    loss = net.compose("E", free=weight)["E"]
    env = {net.symbols[n]: sp.Rational(v.numerator, v.denominator)
           for n, v in spec.values().items()}
    w = net.symbols[weight]
    h = sp.Rational(1, 10**20)
    plus = sp.N(loss.xreplace({**env, w: env[w] + h}), 50)
    minus = sp.N(loss.xreplace({**env, w: env[w] - h}), 50)
    return float(sp.N((plus - minus) / (2 * h), 30))


@FAST
@given(networks())
# found by a random seed: δ_h2 = −7.5·10⁻⁴²⁴, "too small for a float" in explain, 0 in backprop
@example("inputs: {x0: -2}\nparams: {p0: 2}\nnodes:\n  h0: p0\n  h1: exp(p0)\n  h2: 3*(h1)\n"
         "  h3: p0\n  h4: sigmoid(p0 - h2 * h2)\n  E: (h0)^2 + (h3)^2 + (h4)^2\nloss: E\n")
def test_delta_of_every_node_is_its_explained_gradient(text: str) -> None:
    spec = load(text)
    weight = next(iter(spec.params))
    reverse = backprop(spec, weight)
    ex = explain(spec, weight)
    if ex.value is None:
        return
    assert reverse.value == pytest.approx(ex.value, rel=1e-9, abs=1e-12)
    assert reverse.path_sum == pytest.approx(ex.value, rel=1e-9, abs=1e-12)
    assert reverse.agrees
    counts = spec.graph.path_counts("E")
    for step in reverse.steps:
        assert step.paths == counts[step.node] == len(all_paths(spec, step.node, "E"))
        if step.node in spec.nodes and step.node != "E":
            # δ_v = ∂E/∂v: explain with the node as the variable is an independent route
            by_node = explain(spec, step.node)
            if by_node.value is None:  # undefined, or beyond a float: the same note here
                assert step.value is None and step.note == by_node.value_note, step
                continue
            assert step.value == pytest.approx(by_node.value, rel=1e-9, abs=1e-12)
    forward = backprop(spec, weight, forward=True)
    assert forward.value == pytest.approx(reverse.value, rel=1e-12, abs=1e-300)
    for step in forward.steps:
        assert step.paths == len(all_paths(spec, weight, step.node))


def test_delta_equals_finite_differences_and_explain_on_the_question() -> None:
    spec = load(QUESTION)
    for weight in ("w11", "w21", "w32", "x1"):
        bp = backprop(spec, weight)
        assert bp.value == pytest.approx(central_difference(spec, weight), rel=1e-12)
        assert bp.value == pytest.approx(explain(spec, weight).value, rel=1e-12)
        assert backprop(spec, weight, forward=True).value == pytest.approx(bp.value, rel=1e-14)


def test_multiplications_counted_by_hand() -> None:
    # question: w11 → a01 → {a11, a12} → Out → E, 6 edges, 2 paths of 4 edges
    bp = backprop(load(QUESTION), "w11")
    assert (bp.multiplications, bp.additions) == (5, 1)  # 6 edges, δ_E = 1 saves one
    assert (bp.listing_multiplications, bp.listing_additions) == (6, 1)  # 2 × 3, 2 − 1
    fw = backprop(load(QUESTION), "w11", forward=True)
    assert (fw.multiplications, fw.additions) == (5, 1)  # ṫ_w11 = 1 saves one
    # Olah: e = (a + b)(b + 1), from b: 4 edges, 2 paths of 2 edges
    olah = load("params: {a: 2, b: 1}\nnodes: {c: a + b, d: b + 1, e: c * d}")
    bp = backprop(olah, "b")
    assert (bp.multiplications, bp.additions, bp.listing_multiplications) == (2, 1, 2)
    assert bp.value == 5.0 and [s.value for s in bp.steps] == [1.0, 3.0, 2.0, 5.0]


def test_listing_is_skipped_past_the_limit_but_counted() -> None:
    spec = load("mlp: {inputs: [x1], layers: [4, 4, 4, 4, 1], targets: [y]}\n"
                "inputs: {x1: 0.5, y: 1}\n")
    bp = backprop(spec, "w1_1_1", max_listing=10)
    assert not bp.listed and bp.path_sum is None and bp.path_count == 4**3
    assert bp.listing_multiplications == 4**3 * (2 * 5 + 1 - 1)
    assert bp.multiplications < bp.listing_multiplications


def test_the_table_reads_like_the_textbook() -> None:
    bp = backprop(load(QUESTION), "w11")
    console = Console(record=True, width=100, color_system=None, file=open(os.devnull, "w"))
    console.print(backprop_table.backprop(bp))
    text = console.export_text()
    assert "δ_a11 = δ_Out · w31" in text
    assert "δ_a01 = δ_a11 · w21·a11·(1−a11) + δ_a12 · w22·a12·(1−a12)" in text
    assert "Σ over all 2 paths, listed one by one: −0.00577157  ✓ equal" in text  # --digits 6
    assert "reverse mode: 5 multiplications + 1 addition (each edge once)" in text
    data = backprop_json.backprop(bp)
    json.dumps(data)
    assert data["steps"][1]["terms"] == [{"node": "E", "factor": "Out - y",
                                          "factor_value": pytest.approx(0.0468418819)}]
    assert data["agrees"] is True and data["path_count"] == 2


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def question(tmp_path: Path) -> Path:
    path = tmp_path / "question.yaml"
    path.write_text(QUESTION)
    return path


@pytest.fixture
def big_mlp(tmp_path: Path) -> Path:
    path = tmp_path / "mlp.yaml"
    path.write_text("mlp: {inputs: [x1, x2], layers: [8, 8, 8, 8, 8, 8, 1], targets: [y]}\n"
                    "inputs: {x1: 0.5, x2: -1, y: 1}\n")
    return path


def test_cli_backprop_table_json_and_errors(run, question: Path) -> None:  # noqa: ANN001
    result = run("backprop", str(question), "-w", "w11")
    assert result.exit_code == 0 and "δ_w11 = δ_a01 · x1·a01·(1−a01)" in result.stdout
    result = run("backprop", str(question), "-w", "w11", "--forward", "-f", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["mode"] == "forward"
    assert data["value"] == pytest.approx(-0.00577157354801054)
    result = run("backprop", str(question), "-w", "w11", "--set", "x1=2", "-f", "json")
    assert json.loads(result.stdout)["values"]["x1"] == 2.0
    result = run("backprop", str(question), "-w", "w1")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "did you mean 'w11'?" in result.stderr


def test_cli_guard_suggests_top_and_backprop(run, big_mlp: Path) -> None:  # noqa: ANN001
    result = run("explain", str(big_mlp), "-w", "w1_1_1", "--max-paths", "100")
    assert result.exit_code == 2 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "32,768 paths" in line and "--max-paths 100" in line
    assert "--top K" in line and "pathgrad backprop" in line


def test_cli_top_k(run, big_mlp: Path) -> None:  # noqa: ANN001
    result = run("explain", str(big_mlp), "-w", "w1_1_1", "--top", "3", "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["path_count"] == 8**5 and len(data["paths"]) == 3 and data["top"] == 3
    assert data["path_lengths"]["lengths"] == [{"length": 15, "paths": 8**5,
                                                "value": pytest.approx(data["value"]),
                                                "share": pytest.approx(1.0)}]
    table = run("explain", str(big_mlp), "-w", "w1_1_1", "--top", "3").stdout
    assert "the 3 largest of 32,768 paths" in table and "top 3" in table
    result = run("explain", str(big_mlp), "-w", "w1_1_1", "--top", "3", "-f", "latex")
    assert result.exit_code == 0 and r"\begin{document}" in result.stdout  # a short handout
    assert run("explain", str(big_mlp), "-w", "w1_1_1", "--top", "0").exit_code == 2


def test_show_counts_and_lengths(run, big_mlp: Path) -> None:  # noqa: ANN001
    data = json.loads(run("show", str(big_mlp), "-f", "json").stdout)
    assert data["path_counts"]["w1_1_1"] == 8**5
    lengths = {item["length"]: item["paths"] for item in data["path_lengths"]["lengths"]}
    assert sum(lengths.values()) == sum(data["path_counts"][w] for w in data["params"])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    spec = tmp_path / "slow.yaml"  # listing its 10⁵ paths alone takes several seconds
    spec.write_text("mlp: {inputs: [x1, x2], layers: [10, 10, 10, 10, 10, 10, 1], "
                    "targets: [y]}\ninputs: {x1: 0.5, x2: -1, y: 1}\n")
    proc = subprocess.Popen([sys.executable, "-m", "pathgrad", "explain", str(spec), "-w",
                             "w1_1_1", "--max-paths", "1000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PATHGRAD_MAX_FACTORS": "10000000"})
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and out == "" and err == "interrupted\n"


def test_a_long_table_builds_only_the_partials_it_shows(monkeypatch) -> None:
    # a 1,000-row table shows its first and last 200 rows: sympy is asked for those partials
    # only (10,000 residual blocks asked for 40,000); --format json still has every one
    n = 1000
    nodes = "\n".join(f"  h{i}: sin(h{i - 1}) + x" for i in range(2, n))
    spec = load(f"params: {{w: 0.5}}\ninputs: {{x: 0.3}}\nnodes:\n  h1: w*x\n{nodes}\n"
                f"  E: h{n - 1}^2\n")
    asked = []
    original = Network.local_partial
    monkeypatch.setattr(Network, "local_partial",
                        lambda self, u, v: asked.append((u, v)) or original(self, u, v))
    bp = backprop(spec, "w")
    assert asked == []
    console = Console(record=True, width=100, color_system=None, file=open(os.devnull, "w"))
    console.print(backprop_table.backprop(bp))
    text = console.export_text()
    shown = backprop_table.MAX_ROWS
    assert f"{len(bp.steps) - shown:,} more rows" in text
    assert len(asked) == shown - 1  # the seed row δ_E = 1 has no partial
    assert "δ_h998 = δ_h999 · cos(h998)" in text
    terms = [t for s in backprop_json.backprop(bp)["steps"] for t in s["terms"]]
    assert len(terms) == n and len(set(asked)) == n
    assert terms[-1] == {"node": "h1", "factor": "x", "factor_value": pytest.approx(0.3)}
