"""Unit tests for the middle stages: graph, calculus, notation (numeric: test_numeric; verify:
test_verify)."""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

import pathgrad
from pathgrad.calculus import Network, relu, rewrite, sigmoid, softplus, tree_size
from pathgrad.render.notation import Notation

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
