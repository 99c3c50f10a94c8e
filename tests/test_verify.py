"""The verification stage: prove() and the methods it picks (exact, modular, numeric,
finite differences), the time budget, and the verdict naming which derivative was checked."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sympy as sp

import pathgrad
from pathgrad import load
from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network, products
from pathgrad.verify import proof as proof_module
from pathgrad.verify.deadline import diff_within, finite_difference_check
from pathgrad.verify.methods import verify
from pathgrad.verify.proof import ORACLE_TREE_LIMIT, prove
from pathgrad.verify.sampling import sample_points, sum_value

DIAMOND = "params: {w: 1.5}\nnodes: {a: 2*w, b: w^2, c: a*b, d: a + c, E: c*d}"

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


def mlp(layers: list[int], activation: str = "sigmoid") -> str:
    return ("mlp: {inputs: [x1, x2], layers: " + str([*layers, 1]) + f", activation: "
            f"{activation}, targets: [y]}}\ninputs: {{x1: 0.5, x2: -0.3, y: 0.8}}\n")


def paths_sum(net: Network, weight: str) -> sp.Expr:
    """The sum over paths built here from the local partials (sympy's own Mul and Add)."""
    spec = net.spec
    return sp.Add(*(sp.Mul(*(net.local_partial(u, v) for u, v in zip(p, p[1:])))
                    for p in spec.graph.paths(weight, spec.loss)))


def test_verify_picks_the_cheapest_method_that_proves_it():
    small = pathgrad.load(DIAMOND)
    net = Network(small)
    ex = pathgrad.explain(small, "w")
    comp = net.compose("E", free="w")
    assert verify(net, "w", ex.sum, ex.direct, comp).method == "exact"
    wrong = verify(net, "w", ex.sum + 1, ex.direct, comp)
    assert not wrong.verified


def test_small_nets_are_checked_against_sympy_diff_and_symengine_agrees():
    ex = explain(load(QUESTION), "w11")
    v = ex.verification
    assert v.verified and v.derivative == "sympy.diff"
    assert "the direct derivative checked: sympy.diff of the composed E" in v.detail
    assert "symengine's derivative agrees" in v.detail
    # the direct derivative shown is sympy.diff's own, exactly
    net = Network(load(QUESTION))
    composed = net.compose("E", free="w11")
    assert ex.direct == sp.diff(composed["E"], net.symbols["w11"])


def test_large_nets_are_checked_against_symengines_derivative_with_no_fallback():
    spec = load(mlp([6, 6, 6]))  # 216 paths; its composed loss is far past the oracle's size
    net = Network(spec)
    composed = net.compose_symengine(spec.loss, free="w1_1_1")
    from pathgrad.calculus import symengine_tree_size

    assert symengine_tree_size(composed[spec.loss], ORACLE_TREE_LIMIT) > ORACLE_TREE_LIMIT
    ex = explain(spec, "w1_1_1", network=net)
    v = ex.verification
    assert v.verified and v.method == "modular" and v.derivative == "symengine"
    assert v.detail.endswith("the direct derivative checked: symengine's derivative of the "
                             "composed E")
    assert ex.direct_computed and not ex.direct.has(sp.Derivative)
    # an independent oracle: central differences of the loss agree with the direct derivative
    fd = finite_difference_check(net, "w1_1_1", ex.direct, ex.values, "oracle")
    assert fd.verified


def test_a_wrong_sum_is_caught_by_either_derivative():
    for text, weight in ((QUESTION, "w11"), (mlp([6, 6, 6]), "w1_1_1")):
        spec = load(text)
        net = Network(spec)
        right = paths_sum(net, weight)
        x1 = net.symbols["x1"]
        p = prove(net, weight, right * (1 + x1 / 10**9), spec.values())
        assert not p.verification.verified and "DIFFER" in p.verification.detail
        assert prove(net, weight, right, spec.values()).verification.verified


def test_the_engines_must_agree(monkeypatch):
    spec = load(QUESTION)
    net = Network(spec)
    real = proof_module.symengine_derivative
    monkeypatch.setattr(proof_module, "symengine_derivative",
                        lambda e, x: real(e, x) * 2)  # a broken engine
    p = prove(net, "w11", paths_sum(net, "w11"), spec.values())
    v = p.verification
    assert not v.verified
    assert v.detail.startswith("sympy.diff and symengine's derivative of the composed E DIFFER")


def test_diff_within_gives_up_and_stops_its_thread() -> None:
    x = sp.Symbol("x")
    expr = x
    for _ in range(40):  # a composed loss sympy.diff needs long for
        expr = sp.sin(expr * x + expr**2)
    start = time.monotonic()
    assert diff_within(expr, x, 0.3) is None
    assert time.monotonic() - start < 3
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "pathgrad-sympy-diff"]
    assert diff_within(sp.sin(x), x, 5) == sp.cos(x)


def test_finite_differences_catch_a_wrong_sum() -> None:
    spec = load(QUESTION)
    ex = explain(spec, "w11")
    net = ex.network
    assert finite_difference_check(net, "w11", ex.sum, ex.values, "test").verified
    wrong = finite_difference_check(net, "w11", ex.sum * (1 + sp.Rational(1, 10**9)),
                                    ex.values, "test")
    assert not wrong.verified and "DIFFER" in wrong.detail


def test_explain_falls_back_when_there_is_no_time() -> None:
    ex = explain(load(QUESTION), "w11", verify_timeout=0)
    assert ex.verified and ex.verification.method == "finite-difference"
    assert "--verify-timeout" in ex.verification.detail
    assert ex.verification.derivative is None and not ex.direct_computed
    assert ex.value == pytest.approx(-0.00577157354801054)


def test_cli_verify_timeout(run, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "question.yaml"
    path.write_text(QUESTION)
    result = run("explain", str(path), "-w", "w11", "--verify-timeout", "0", "-f", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["method"] == "finite-difference"


def test_the_sum_is_evaluated_the_same_by_the_fast_loop():
    import random

    from pathgrad.numeric.evaluate import ModPAlgebra, MPAlgebra, evaluate, forward

    spec = load(mlp([4, 4, 4, 4]))  # 64 paths: the loop's fast path
    net = Network(spec)
    total = sp.Add(*products([tuple(net.local_partial(u, v) for u, v in zip(p, p[1:]))
                              for p in spec.graph.paths("w1_1_1", "E")]))
    assert len(total.args) == 64
    values = sample_points([*spec.inputs, *spec.params], None)[0]
    alg = MPAlgebra()
    env = forward(net.graph.order, net.exprs, net.symbols, values, alg)
    assert sum_value(total, env, alg) == pytest.approx(evaluate(total, env, alg), rel=1e-12)
    mod = ModPAlgebra(random.Random(1))
    ints = {n: i + 2 for i, n in enumerate(values)}
    env = forward(net.graph.order, net.exprs, net.symbols, ints, mod)
    assert sum_value(total, env, mod) == evaluate(total, env, mod)
