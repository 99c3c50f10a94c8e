"""The fast load: builder nodes and display names made on first use, names checked in bulk,
the graph without networkx. Each checked against an oracle that shares none of that code:
expressions written out from the mlp formulas and parsed, the initializer's draw loop as it
is documented, networkx and brute-force listing for the graph."""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from randomnets import all_paths, networks

from pathgrad import load
from pathgrad.errors import PathgradError
from pathgrad.graph import Graph, between, leaf_length_counts, relevant_children
from pathgrad.spec import grammar as g
from pathgrad.spec.model import LazyLatex, LazyNodes

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mlp(layers: list[int], act: str | list[str] = "sigmoid", bias: str = "unit",
         loss: str = "mse", extra: str = "") -> str:
    inputs = ", ".join(f"x{i}" for i in range(1, 3))
    out = layers[-1]
    targets = ", ".join(f"t{j}" for j in range(1, out + 1))
    return (f"mlp:\n  inputs: [{inputs}]\n  layers: {layers}\n  activation: {act}\n"
            f"  bias: {bias}\n  loss: {loss}\n  targets: [{targets}]\n  init: {{seed: 3}}\n"
            + extra)


def _expected_nodes(layers: list[int], acts: list[str], bias: str) -> dict[str, str]:
    """The node texts as the mlp docstring writes them (the oracle for the lazy ASTs)."""
    func = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "softplus": "softplus"}
    prev = ["x1", "x2"]
    out: dict[str, str] = {}
    for l, (width, act) in enumerate(zip(layers, acts), 1):  # noqa: E741
        zs = []
        for j in range(1, width + 1):
            terms = [f"w{l}_{j}_{k}*{a}" for k, a in enumerate(prev, 1)]
            terms += [f"b{l}_{j}"] if bias == "unit" else [f"b{l}"] if bias == "layer" else []
            out[f"z{l}_{j}"] = " + ".join(terms)
            zs.append(f"z{l}_{j}")
            if act != "softmax":
                out[f"a{l}_{j}"] = f"{func[act]}(z{l}_{j})" if act in func else f"z{l}_{j}"
        if act == "softmax":
            out[f"s{l}"] = " + ".join(f"exp({z})" for z in zs)
            for j, z in enumerate(zs, 1):
                out[f"a{l}_{j}"] = f"exp({z})/s{l}"
        prev = [f"a{l}_{j}" for j in range(1, width + 1)]
    return out


CASES = [([3, 2], ["sigmoid", "sigmoid"], "unit", "mse"),
         ([2, 3, 1], ["tanh", "linear", "relu"], "layer", "bce"),
         ([4, 3], ["softplus", "softmax"], "none", "cross_entropy"),
         ([12, 11, 2], ["relu", "sigmoid", "softmax"], "unit", "cross_entropy")]


@pytest.mark.parametrize(("layers", "acts", "bias", "loss"), CASES)
def test_mlp_nodes_made_on_first_use_are_the_documented_expressions(layers, acts, bias, loss):
    spec = load(_mlp(layers, f"[{', '.join(acts)}]", bias, loss))
    assert isinstance(spec.nodes, LazyNodes)
    expected = _expected_nodes(layers, acts, bias)
    assert [n for n in spec.nodes if n != "E"] == list(expected)
    for name, text in expected.items():
        assert spec.nodes[name] == g.parse(text), name
    for name in spec.nodes:  # the names each node uses, known before any AST was made
        assert spec.uses[name] == g.free_names(spec.nodes[name]), name
        assert spec.graph.deps(name) == g.free_names(spec.nodes[name])


def test_mlp_display_names_are_made_checked_and_merged_in_order():
    spec = load(_mlp([2, 1], extra="latex: {x1: 'x_1', w1_2_1: '\\omega'}\n"))
    assert isinstance(spec.latex, LazyLatex)
    assert spec.latex["w1_2_1"] == "\\omega" and spec.latex["x1"] == "x_1"
    assert spec.latex["w1_1_2"] == "w^{(1)}_{12}" and spec.latex["z2_1"] == "z^{(2)}_{1}"
    keys = list(spec.latex)
    assert keys[-1] == "x1" and keys.index("w1_2_1") == 5  # after w1_1_1, w1_1_2, b1_1, z1_1, a1_1
    assert len(keys) == len(spec.latex) == len(set(keys))
    wide = load(_mlp([12, 1]))
    assert wide.latex["w2_1_12"] == "w^{(2)}_{1,12}" and wide.latex["b1_10"] == "b^{(1)}_{10}"
    assert "b1" not in wide.latex and load(_mlp([2, 1], bias="layer")).latex["b2"] == "b^{(2)}"
    with pytest.raises(PathgradError, match="not allowed") as bad:
        load(_mlp([2, 1], extra="latex: {x1: '\\input{x}', w1_1_1: '\\write'}\n"))
    assert "latex.w1_1_1" in str(bad.value.where)  # the first in the merged order, as ever


def _draws(names: list[str], fan_in: dict[str, int], seed: int) -> dict[str, Fraction]:
    """The initializer as documented: uniform(−1/√fan_in, 1/√fan_in) rounded to 4 decimals,
    one draw per param in declaration order."""
    rng = random.Random(seed)
    out = {}
    for n in names:
        bound = 1 / math.sqrt(fan_in[n])
        out[n] = Fraction(round(rng.uniform(-bound, bound) * 10_000), 10_000)
    return out


@pytest.mark.parametrize("extra", ["", "params: {w1_2_1: 0.5, b2_1: -3}\n"])
def test_initializer_draws_as_documented(extra):
    spec = load(_mlp([3, 2], extra=extra))
    fan_in = {n: 2 if n.startswith(("w1", "b1")) else 3 for n in spec.params}
    want = _draws(list(spec.params), fan_in, 3)
    if extra:
        want.update(w1_2_1=Fraction(1, 2), b2_1=Fraction(-3))
    assert spec.params == want
    assert spec.meta["init"]["initialized"] == [n for n in spec.params
                                                if not extra or n not in ("w1_2_1", "b2_1")]


@st.composite
def shuffled(draw: st.DrawFn) -> str:
    """A random network with its nodes written in a random order (no longer in dependency
    order: the graph sorts them)."""
    text = draw(networks())
    head, _, rest = text.partition("nodes:\n")
    rows, _, tail = rest.rpartition("\nloss:")
    lines = rows.split("\n")
    return head + "nodes:\n" + "\n".join(draw(st.permutations(lines))) + "\nloss:" + tail


@FAST
@given(shuffled())
def test_graph_agrees_with_networkx_and_listing(text: str) -> None:
    spec = load(text)
    graph = spec.graph
    oracle = nx.DiGraph()
    rank = {n: i for i, n in enumerate(spec.names)}
    oracle.add_nodes_from(spec.names)
    for v, e in spec.nodes.items():
        oracle.add_edges_from((u, v) for u in g.free_names(e) if u in rank)
    assert graph.order == tuple(nx.lexicographical_topological_sort(oracle, key=rank.get))
    assert set(graph.nx.edges) == set(oracle.edges)
    for name in spec.names:
        assert graph.children(name) == list(oracle.successors(name))
        assert graph.ancestors_and_self(name) == frozenset(nx.ancestors(oracle, name)) | {name}
    for name in spec.names:  # the names on some path, and their children among them
        on = between(graph, name, "E")
        want = [n for n in graph.order if n in nx.descendants(oracle, name) | {name}
                and (n == "E" or nx.has_path(oracle, n, "E"))] if nx.has_path(oracle, name, "E") \
            else []
        assert list(on) == want
        kids = relevant_children(graph, on)
        assert kids == {n: [c for c in oracle.successors(n) if c in on] for n in on}
    counts = graph.path_counts("E")
    every: Counter[int] = Counter()
    for kind in (spec.params, spec.inputs):
        lengths: Counter[int] = Counter()
        for w in kind:
            brute = all_paths(spec, w, "E")
            assert counts[w] == len(brute)
            lengths.update(len(p) - 1 for p in brute)
        assert leaf_length_counts(graph, "E", kind) == dict(sorted(lengths.items()))
        every += lengths
    fresh = Graph(spec)  # as calculus makes one: finds order and pi itself
    assert fresh.order == graph.order and fresh.path_counts("E") == counts


def test_constant_pi_is_no_vertex_and_bulk_checks_report_the_first_bad_name():
    spec = load("params: {w: 1}\nnodes: {E: pi*w + w}\n")
    assert spec.graph.deps("E") == ("w",) and spec.graph.path_counts("E")["w"] == 1
    many = ", ".join(f"p{i}: 1" for i in range(2_000))
    cases = {f"params: {{{many}, class: 2}}": "Python keyword",
             f"inputs: {{p5: 1}}\nparams: {{{many}}}": "already declared",
             f"params: {{{many}, exp: 1}}": "is the name of a function",
             f"params: {{{many}, p7: 1}}": "duplicate key",
             f"params: {{{many}, __x: 1}}": "names starting with '__'",
             f"params: {{{many}, p2000: nan}}": "not a finite number"}
    for text, message in cases.items():
        with pytest.raises(PathgradError, match=message):
            load(text + "\nnodes: {E: p1^2}\n")
    listed = ", ".join(f"q{i}" for i in range(500))
    with pytest.raises(PathgradError, match="already declared"):
        load(f"inputs: [{listed}, q3]\nnodes: {{E: q1^2}}\n")


_LEAF = st.one_of(st.builds(g.Name, st.sampled_from(["x", "y", "w1"])),
                  st.builds(g.Num, st.fractions(min_value=-5, max_value=5, max_denominator=40)))
_TREE = st.recursive(_LEAF, lambda c: st.one_of(
    st.builds(g.Neg, c), st.builds(g.BinOp, st.sampled_from(list("+-*/^")), c, c),
    st.builds(g.Call, st.sampled_from(["sigmoid", "max"]),
              st.lists(c, min_size=1, max_size=3).map(tuple))), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_TREE)
def test_to_text_walk_writes_what_the_generic_renderer_writes(expr) -> None:
    # the same text as _render's rules applied node by node (test_grammar: it parses back)
    assert g.to_text(expr) == g._postorder(expr, g._render)[0]  # noqa: SLF001
