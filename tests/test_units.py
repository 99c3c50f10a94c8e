"""Unit tests for the middle stages: graph, calculus, notation, numeric, verify."""

from __future__ import annotations

import itertools
import random

import mpmath
import pytest
import sympy as sp

import pathgrad
from pathgrad.calculus import Network, relu, rewrite, sigmoid, softplus, tree_size
from pathgrad.numeric.evaluate import (
    PRIME,
    DegreeAlgebra,
    ModPAlgebra,
    MPAlgebra,
    NoValue,
    evaluate,
)
from pathgrad.render.notation import Notation
from pathgrad.verify.methods import verify

DIAMOND = "params: {w: 1.5}\nnodes: {a: 2*w, b: w^2, c: a*b, d: a + c, E: c*d}"


def brute_paths(spec, source: str, target: str) -> list[tuple[str, ...]]:
    """Every path, by trying every ordered subset of nodes (an oracle for tiny graphs)."""
    nodes = list(spec.nodes)
    edges = set(spec.graph.nx.edges)
    found = []
    for r in range(len(nodes) + 1):
        for middle in itertools.permutations(nodes, r):
            path = (source, *middle)
            if path[-1] != target and target not in middle:
                path = (*path, target)
            if path[-1] == target and len(set(path)) == len(path) and \
                    all((u, v) in edges for u, v in zip(path, path[1:])):
                found.append(path)
    return sorted(set(found))


def test_graph_counts_and_lists_every_path():
    spec = pathgrad.load(DIAMOND)
    paths = list(spec.graph.paths("w", "E"))
    assert sorted(paths) == brute_paths(spec, "w", "E")
    assert len(paths) == len(set(paths)) == spec.graph.path_counts("E")["w"]
    assert spec.graph.order.index("a") < spec.graph.order.index("c")


def test_local_partials_hold_other_names_fixed():
    net = Network(pathgrad.load(DIAMOND))
    a, b, c, d, w = (net.symbols[n] for n in "abcdw")
    assert net.local_partial("a", "c") == b
    assert net.local_partial("w", "b") == 2 * w
    assert net.local_partial("c", "E") == d
    assert net.local_partial("a", "d") == 1


def test_textbook_derivatives():
    z = sp.Symbol("z", real=True)
    assert sp.diff(sigmoid(z), z) == sigmoid(z) * (1 - sigmoid(z))
    assert sp.diff(relu(z), z) == sp.Heaviside(z, 0)
    assert sp.diff(softplus(z), z) == sigmoid(z)
    # and their numeric values match the definitions (sympy's own evalf)
    for f, g in ((sigmoid, 1 / (1 + sp.exp(-z))), (softplus, sp.log(1 + sp.exp(z)))):
        assert float(f(sp.Rational(3, 10)).evalf(30)) == pytest.approx(
            float(g.subs(z, sp.Rational(3, 10)).evalf(30)))


def test_rewrite_finds_node_expressions_and_parts_of_sums():
    x, y, q = sp.symbols("x y q", real=True)
    out = sp.Symbol("Out", real=True)
    table = {sigmoid(x * y): q, x + y: out}
    assert rewrite(3 * sigmoid(x * y) ** 2, table) == 3 * q**2
    assert rewrite(x + y - 7, table) == out - 7


def test_tree_size_counts_shared_subtrees_as_often_as_they_appear():
    x = sp.Symbol("x")
    e = x
    for _ in range(60):
        e = sp.Function("f")(e, e)  # a DAG of 61 nodes, a tree of 2^61 − 1
    assert tree_size(e) == 2**61 - 1
    assert tree_size(e, limit=100) > 100


def test_notation_writes_textbook_order_and_symbols(examples):
    spec = pathgrad.load(examples / "question.yaml")
    note = Notation(spec)
    net = Network(spec)
    assert note.pretty(net.local_partial("a01", "a11")) == "w21·a11·(1−a11)"
    assert note.plain(net.local_partial("w11", "a01")) == "x1*a01*(1 - a01)"
    z = sp.Symbol("z", real=True)
    assert note.pretty(sp.Heaviside(z, 0)) == "[z > 0]"
    assert note.pretty(sigmoid(z) * sp.pi) == "π·σ(z)"
    assert note.factor(-z) == "(−z)"


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


def test_verify_picks_the_cheapest_method_that_proves_it():
    small = pathgrad.load(DIAMOND)
    net = Network(small)
    ex = pathgrad.explain(small, "w")
    comp = net.compose("E", free="w")
    assert verify(net, "w", ex.sum, ex.direct, comp).method == "exact"
    wrong = verify(net, "w", ex.sum + 1, ex.direct, comp)
    assert not wrong.verified


def test_functions_sympy_introduces_itself_are_evaluated_by_sympy():
    # |f|′ may come back with floor/acot/atan2 … that no spec can write: sympy evaluates them
    x = sp.Symbol("x", real=True)
    with mpmath.workdps(30):
        got = evaluate(sp.floor(x) + sp.acot(x), {x: mpmath.mpf("2.5")}, MPAlgebra())
    assert got == pytest.approx(2 + float(sp.acot(sp.Rational(5, 2)).evalf(30)))
