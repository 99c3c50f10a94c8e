"""The numeric stage: the algebras (mpmath, modular, degrees, exact) and the two evaluators —
on sympy DAGs (numeric.evaluate) and on the spec's ASTs (numeric.points) — which must agree."""

from __future__ import annotations

import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from randomnets import networks

import pathgrad
from pathgrad.calculus import Network, sigmoid
from pathgrad.numeric.evaluate import (
    PRIME,
    DegreeAlgebra,
    ModPAlgebra,
    MPAlgebra,
    NoValue,
    evaluate,
    to_mpf,
)
from pathgrad.numeric.exact import ExactAlgebra, Real, at_point, exact_leaves, to_float
from pathgrad.numeric.points import DIGITS, point_values
from pathgrad.render.scene import edge_values

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_mp_evaluation_says_why_a_value_is_missing():
    x = sp.Symbol("x", real=True)
    with mpmath.workdps(30):
        alg = MPAlgebra()
        assert "log of a negative number" in evaluate(sp.log(x), {x: mpmath.mpf(-2)}, alg).reason
        assert evaluate(1 / x, {x: mpmath.mpf(0)}, alg) == NoValue("division by zero")
        assert evaluate(x + 1, {}, alg) == NoValue("x has no value")
        got = evaluate(sigmoid(x) * sp.exp(x), {x: mpmath.mpf(1)}, alg)
        assert got == pytest.approx(float((sp.E / (1 + sp.exp(-1))).evalf(30)))


def test_modular_evaluation_agrees_with_exact_rational_arithmetic():
    x, y = sp.symbols("x y", real=True)
    expr = (x**2 - y) / (3 * x + 1) + sp.Rational(5, 7) * x * y
    vx, vy = random.Random(1).randrange(PRIME), random.Random(2).randrange(PRIME)
    alg = ModPAlgebra(random.Random(0))
    got = evaluate(expr, {x: vx, y: vy}, alg)
    num = ((vx * vx - vy) * 7 + 5 * vx * vy * (3 * vx + 1)) % PRIME
    den = (7 * (3 * vx + 1)) % PRIME
    assert got == num * pow(den, -1, PRIME) % PRIME
    # equal function applications get equal random values, different ones independent values
    f1 = evaluate(sigmoid(x + y), {x: vx, y: vy}, alg)
    assert f1 == evaluate(sigmoid(y + x), {x: vx, y: vy}, alg)
    assert f1 != evaluate(sigmoid(x), {x: vx, y: vy}, alg)


def test_degree_bound_of_a_rational_function():
    x, y = sp.symbols("x y", real=True)
    env = {x: (1, 0), y: (1, 0)}
    assert evaluate(x**3 * y + y, env, DegreeAlgebra()) == (4, 0)
    assert evaluate(1 / (x + y) + x, env, DegreeAlgebra()) == (2, 1)


def test_functions_sympy_introduces_itself_are_evaluated_by_sympy():
    # |f|′ may come back with floor/acot/atan2 … that no spec can write: sympy evaluates them
    x = sp.Symbol("x", real=True)
    with mpmath.workdps(30):
        got = evaluate(sp.floor(x) + sp.acot(x), {x: mpmath.mpf("2.5")}, MPAlgebra())
        exact = evaluate(sp.floor(x) + sp.acot(x), {x: Fraction(5, 2)}, ExactAlgebra())
    assert got == pytest.approx(2 + float(sp.acot(sp.Rational(5, 2)).evalf(30)))
    assert to_float(exact) == pytest.approx(float(got))


def test_exact_algebra_keeps_rationals_exact_and_says_why_a_value_is_missing():
    x, y = sp.symbols("x y", real=True)
    alg = ExactAlgebra()
    env = {x: Fraction(1, 10), y: Fraction(-3, 10)}
    # 0.1·3 − 0.3 is 0 exactly (in binary floating point it is 5.5e-17)
    assert evaluate(3 * x + y, env, alg) == 0
    assert evaluate((x + y) ** -2 / 7, env, alg) == Fraction(25, 7)
    z = sp.Symbol("z", positive=True)
    assert evaluate(sp.sqrt(z), {z: Fraction(4, 9)}, alg) == Fraction(2, 3)  # exact roots
    assert evaluate(z ** sp.Rational(-3, 2), {z: Fraction(4, 9)}, alg) == Fraction(27, 8)
    with mpmath.workdps(30):
        assert evaluate(sp.log(y), env, alg).reason == "log of a negative number (-0.3)"
        assert evaluate(1 / (3 * x + y), env, alg) == NoValue("division by zero")
        assert evaluate(x + sp.Symbol("q"), env, alg) == NoValue("q has no value")
        t = evaluate(sp.tanh(x), env, alg)
        assert isinstance(t, Real) and to_float(t) == pytest.approx(float(sp.tanh(0.1)))
        # an exact 0 factor makes an exact 0, even against a transcendental value …
        assert evaluate(sp.tanh(x) * (3 * x + y), env, alg) == 0
        # … but 0 times an undefined value stays undefined
        assert isinstance(evaluate(sp.log(y) * (3 * x + y), env, alg), NoValue)


def test_huge_rationals_turn_into_enclosed_reals_instead_of_exhausting_memory():
    x = sp.Symbol("x", real=True)
    with mpmath.workdps(30):
        v = evaluate(((x**1000) ** 1000) ** 1000, {x: Fraction(11, 10)}, ExactAlgebra())
        assert isinstance(v, Real)
        assert mpmath.log10(v.mid) == pytest.approx(1e9 * mpmath.log10(mpmath.mpf("1.1")))


@FAST
@given(networks())
def test_ast_and_sympy_evaluators_agree_on_every_value_and_partial(text: str) -> None:
    """numeric.points (AST, rules from sympy.diff of one operation) against numeric.evaluate
    on Network.local_partial (sympy.diff of the whole node), both exact, and against the
    mpmath algebra on the same ASTs."""
    spec = pathgrad.load(text)
    net = Network(spec)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, spec.values())
        mp = point_values(spec, spec.values(), algebra=MPAlgebra())
        point = at_point(net, spec.values())
        for n in spec.nodes:
            assert _same(pv.exact_values[n], point.node(n)), n
        for (u, v), value in pv.exact_partials.items():
            ref = point.value(net.local_partial(u, v))
            assert _same(value, ref), (u, v, value, ref)
            m = mp.exact_partials[(u, v)]
            if not isinstance(value, NoValue) and not isinstance(m, NoValue):
                assert abs(mpmath.mpf(to_float(value) or 0) - m) <= 1e-12 * max(1, abs(m))


def _same(a: object, b: object) -> bool:
    if isinstance(a, NoValue) or isinstance(b, NoValue):
        return isinstance(a, NoValue) and isinstance(b, NoValue)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    fa, fb = to_mpf(a), to_mpf(b)  # Fractions exactly rounded to the working precision
    return abs(fa - fb) <= mpmath.mpf(10) ** -20 * max(1, abs(fb))


def test_edge_values_and_explain_use_the_same_exact_numbers(examples):
    spec = pathgrad.load(examples / "question.yaml")
    ex = pathgrad.explain(spec, "w11")
    net = ex.network
    edges = [(u, v) for p in ex.paths for u, v in zip(p.nodes, p.nodes[1:])]
    values = edge_values(net, ex.values, edges)
    for p in ex.paths:
        product = 1.0
        for u, v in zip(p.nodes, p.nodes[1:]):
            product *= values[(u, v)]
        assert product == pytest.approx(p.value, rel=1e-12)
    # and the leaves are the spec's exact decimals
    assert exact_leaves(ex.values)["x1"] == spec.values()["x1"]


def test_point_values_compat_views_are_mpmath_numbers():
    spec = pathgrad.load("params: {w: 0.5}\nnodes: {h: w*w, E: tanh(h)}")
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, spec.values())
        assert pv.exact_values["h"] == Fraction(1, 4)
        assert isinstance(pv.values["h"], mpmath.mpf) and pv.values["h"] == 0.25
        assert pv.partials[("h", "E")] == pytest.approx(1 - mpmath.tanh(0.25) ** 2)


def test_repeated_arguments_of_max_count_once_as_in_sympy():
    # sympy writes max(h, h, k) as Max(h, k): at the tie h = k each gets ½, not h 1 and k ½
    spec = pathgrad.load("params: {h: 1, k: 1}\nnodes:\n  m: max(h, h, k)\n"
                         "  n: min(h, k, h, 2) + max(k, k)\n  E: m + n\n")
    net = Network(spec)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, spec.values())
        point = at_point(net, spec.values())
        for (u, v), value in pv.exact_partials.items():
            assert value == point.value(net.local_partial(u, v)), (u, v)
    assert pv.partial("h", "m") == pv.partial("k", "m") == Fraction(1, 2)
    assert pv.partial("k", "n") == Fraction(3, 2)
