"""The proof on a large net composes the loss from the weight's cone only (verify.proof
`_prove_in_cone`): the same verdicts and values as the full composition, checked against the
full proof on small nets (with the limit lowered), against central finite differences on a net
past the limit, and on a wrong sum it must refute."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from float_oracle import central_difference

from pathgrad import load
from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network
from pathgrad.verify import proof

ROOT = Path(__file__).resolve().parents[1]

SMALL = """mlp:
  inputs: [x1, x2]
  layers: [3, 3, 2]
  activation: sigmoid
  targets: [y1, y2]
  init: {seed: 3}
inputs: {x1: 0.5, x2: -0.3, y1: 0.8, y2: 0.1}
"""

# 40 inputs into 40 × 40 sigmoid units: about 13,000 operations above the loss, past the limit
LARGE = """mlp:
  inputs: [%s]
  layers: [40, 40, 1]
  activation: sigmoid
  targets: [y1]
  init: {seed: 1}
inputs: {%s, y1: 0.7}
""" % (", ".join(f"x{i}" for i in range(1, 41)),
       ", ".join(f"x{i}: {((i * 37) % 19 - 9) / 10}" for i in range(1, 41)))


@pytest.mark.parametrize("weight", ["w3_1_2", "w2_3_1", "b2_2", "w1_1_1"])
def test_the_cone_proof_agrees_with_the_full_proof(monkeypatch, weight):
    spec = load(SMALL)
    full = explain(spec, weight)
    monkeypatch.setattr(proof, "FULL_COMPOSE_LIMIT", 0)
    cone = explain(spec, weight)
    assert full.direct_in_leaves and not cone.direct_in_leaves
    assert full.verified and cone.verified
    assert cone.verification.derivative == "symengine"
    assert "composed from the" in cone.verification.detail
    assert cone.value == pytest.approx(full.value, rel=1e-12, abs=1e-15)
    # the cone's derivative is the full one with the outside nodes written as their names
    net = Network(spec)
    composed = net.compose(spec.loss)
    outside = {net.symbols[n]: composed[n] for n in spec.nodes
               if net.symbols[n] in cone.direct.free_symbols}
    assert sp.simplify(cone.direct.xreplace(outside) - full.direct) == 0


def test_the_cone_proof_refutes_a_wrong_sum(monkeypatch):
    spec = load(SMALL)
    monkeypatch.setattr(proof, "FULL_COMPOSE_LIMIT", 0)
    ex = explain(spec, "w3_1_2")
    net = ex.network
    wrong = ex.sum + sp.Rational(1, 1000) * net.symbols["a2_1"]
    assert proof.prove(net, "w3_1_2", ex.sum).verification.verified
    assert not proof.prove(net, "w3_1_2", wrong).verification.verified


@pytest.mark.parametrize("weight", ["w3_1_17", "b3_1", "w2_5_9"])
def test_past_the_limit_explain_matches_finite_differences(weight):
    spec = load(LARGE)
    assert proof._operations(Network(spec), spec.loss) > proof.FULL_COMPOSE_LIMIT
    ex = explain(spec, weight)
    assert ex.verified and not ex.direct_in_leaves
    assert ex.verification.method in ("exact", "modular")
    fd = central_difference(spec, weight)
    assert math.isclose(ex.value, fd, rel_tol=1e-6, abs_tol=1e-10), (ex.value, fd)
    assert sum(p.value for p in ex.paths) == pytest.approx(ex.value, rel=1e-12)


def test_json_says_the_direct_derivative_is_in_node_names(tmp_path):
    spec = tmp_path / "large.yaml"
    spec.write_text(LARGE)
    out = subprocess.run([sys.executable, "-m", "pathgrad", "explain", str(spec), "-w",
                          "w3_1_17", "-f", "json"], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    data = json.loads(out)
    assert data["direct_form"] == "node names" and data["verified"] is True
    names = {n: sp.Symbol(n, real=True) for n in ("a2_17", "a3_1", "y1")}
    # parse back: the derivative in node names is the single path's product of partials
    direct = sp.sympify(data["direct"], locals=names)
    term = sp.sympify(data["paths"][0]["term"], locals=names)
    assert sp.simplify(direct - term) == 0


def test_a_loss_too_large_for_sympy_is_converted_once_and_proved_in_the_cone():
    # 1 → 2,000 outputs: E sums 2,000 squares (more than LARGE_NODE AST nodes), so its local
    # partial and the proof both take E from Network.se_expression; in the proof a1_1 is put
    # back as its composed expression (without it ∂E/∂w1_1_1 would be 0 and not verified)
    from pathgrad.analyses.backprop import backprop
    from pathgrad.calculus import LARGE_NODE
    from pathgrad.spec import grammar as g
    from pathgrad.verify.proof import FULL_COMPOSE_LIMIT, _operations

    targets = ", ".join(f"y{j}: {j / 1000}" for j in range(1, 2001))
    spec = load(f"mlp: {{inputs: [x], layers: [2000]}}\ninputs: {{x: 0.5, {targets}}}\n")
    assert g.size(spec.nodes[spec.loss]) > LARGE_NODE
    assert _operations(Network(spec), spec.loss) > FULL_COMPOSE_LIMIT  # the cone proof
    ex = explain(spec, "w1_1_1")
    assert ex.verified and ex.verification.method != "finite-difference"
    assert ex.value == pytest.approx(backprop(spec, "w1_1_1").value, rel=1e-12, abs=0)
    assert ex.network.se_expression(spec.loss) is ex.network.se_expression(spec.loss)
