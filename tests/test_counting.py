"""Counting without listing: every DP checked against brute-force listing or a closed form."""

from __future__ import annotations

from collections import Counter

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from randomnets import all_paths, children, networks

from pathgrad import load
from pathgrad.analyses.explanation import explain
from pathgrad.analyses.lengths import network_path_lengths, path_lengths
from pathgrad.calculus import Network
from pathgrad.graph import (
    SCANS_BEFORE_SUCCESSORS,
    between,
    cone_edges,
    length_counts,
    listing_cost,
    path_edge_total,
    path_length_range,
)
from pathgrad.numeric.evaluate import MPAlgebra, NoValue, evaluate, forward
from pathgrad.numeric.points import DIGITS, leaf_numbers, point_values

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(networks())
def test_counts_and_lengths_equal_brute_force_listing(text: str) -> None:
    spec = load(text)
    graph = spec.graph
    counts = graph.path_counts("E")
    for name in spec.names:
        brute = all_paths(spec, name, "E")
        assert counts[name] == len(brute)
        lengths = Counter(len(p) - 1 for p in brute)
        assert length_counts(graph, name, "E") == dict(lengths)
        on_paths = {n for p in brute for n in p}
        assert set(between(graph, name, "E")) == on_paths
        # a path of L edges multiplies L partials: L − 1 multiplications (none for E itself)
        mults = sum(max(len(p) - 2, 0) for p in brute)
        assert listing_cost(lengths) == (mults, max(len(brute) - 1, 0))
        # what explain checks before writing paths out (PATHGRAD_MAX_PATH_EDGES, _FACTORS)
        assert path_edge_total(graph, name, "E") == (len(brute), sum(lengths.elements()))
        assert path_length_range(graph, name, "E") == (min(lengths, default=0),
                                                       max(lengths, default=0))
        # what reverse mode from `name` sweeps (PATHGRAD_MAX_CONE_EDGES): every name used by
        # a node on some path, the weight itself left out
        assert cone_edges(graph, name, "E") == sum(len(spec.graph.deps(n)) for n in on_paths
                                                   if n != name)
    above = [n for n in spec.names if all_paths(spec, n, "E")]  # E's ancestors and E
    assert cone_edges(graph, None, "E") == sum(len(graph.deps(n)) for n in above)
    every = Counter(len(p) - 1 for w in spec.params for p in all_paths(spec, w, "E"))
    dist = network_path_lengths(spec)
    assert {b.length: b.paths for b in dist.bins} == dict(every)
    assert dist.total == sum(every.values())


@FAST
@given(networks())
def test_one_count_and_children_on_demand_equal_brute_force(text: str) -> None:
    spec = load(text)
    graph = spec.graph  # fresh: no counts or children lists built yet
    kids = children(spec)
    for name in spec.names:  # children_of scans until SCANS_BEFORE_SUCCESSORS, then builds all
        assert graph.children_of(name) == kids[name], name
        assert graph.path_count(name, "E") == len(all_paths(spec, name, "E")), name
    assert graph.path_count("E", "E") == 1
    assert (graph._succ is None) == (len(spec.names) <= SCANS_BEFORE_SUCCESSORS)
    assert [graph.children_of(n) for n in spec.names] == [kids[n] for n in spec.names]


@FAST
@given(networks())
def test_gradient_by_length_equals_the_listed_paths_grouped(text: str) -> None:
    spec = load(text)
    weight = next(iter(spec.params))
    ex = explain(spec, weight)  # path values from sympy's partials: an independent oracle
    dist = path_lengths(spec, weight)
    by_length: dict[int, float] = {}
    for p in ex.paths:
        by_length[len(p.nodes) - 1] = by_length.get(len(p.nodes) - 1, 0.0) + (p.value or 0.0)
    assert [b.length for b in dist.bins] == sorted(by_length)
    for b in dist.bins:
        assert b.value == pytest.approx(by_length[b.length], rel=1e-9, abs=1e-12)
    if ex.value:
        assert dist.gradient == pytest.approx(ex.value, rel=1e-9, abs=1e-12)


def test_residual_blocks_give_binomial_lengths(examples) -> None:  # noqa: ANN001
    # Veit et al. 2016: n residual blocks make 2^n paths, C(n, k) of them through k blocks;
    # here each block entered adds 2 edges (z, h) to the 4-edge skip-only path
    spec = load(examples / "residual.yaml")
    dist = path_lengths(spec, "x")
    assert [(b.length, b.paths) for b in dist.bins] == [(4, 1), (6, 3), (8, 3), (10, 1)]
    assert sum(b.share for b in dist.bins) == pytest.approx(1.0)
    assert dist.mean_length == 7.0


def test_mlp_counts_are_width_to_the_depth() -> None:
    layers = [5] * 6 + [1]
    spec = load("mlp: {inputs: [x1, x2], layers: %s, loss: mse, targets: [y]}\n"
                "inputs: {x1: 0.5, x2: -1, y: 1}\n" % layers)
    counts = spec.graph.path_counts("E")
    # a first-layer weight reaches one unit, which reaches 5^5 paths through the hidden layers
    assert counts["w1_1_1"] == 5**5 and counts["x1"] == 5**6 and counts["w7_1_3"] == 1
    assert length_counts(spec.graph, "w1_1_1", "E") == {2 * 7 + 1: 5**5}


def test_point_values_match_sympy_local_partials() -> None:
    # every grammar function, powers, division, max/min with a tie, a shared name twice
    spec = load("""
inputs: {x: 0.7, y: -0.3}
params: {w: 1.3, v: -0.4, u: 2}
nodes:
  h: sigmoid(w*x) + tanh(v*y) - relu(u - x) / (1 + w^2)
  k: softplus(h) * exp(-h) + log(u + h^2) + sqrt(u*w) + abs(v - w) + sin(h)*cos(x)
  m: max(h, k, w) - min(x, y, h) + (u*h)^(1/3) + w^v + (h/k)^-2 + max(u, 2) + x*x
  E: (m - y)^2/2 + h*k*m
""")
    net = Network(spec)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, spec.values())
        alg = MPAlgebra()
        env = forward(net.graph.order, net.exprs, net.symbols, leaf_numbers(spec, spec.values()),
                      alg)
        for (u, v), value in pv.partials.items():
            ref = evaluate(sp.diff(net.exprs[v], net.symbols[u]), env, alg)
            assert not isinstance(ref, NoValue) and not isinstance(value, NoValue)
            assert abs(value - ref) <= mpmath.mpf(10) ** -25 * max(1, abs(ref)), (u, v)
    assert len(pv.partials) == sum(len(spec.graph.deps(n)) for n in spec.nodes)


def test_undefined_partials_say_why() -> None:
    spec = load("params: {w: 0}\nnodes: {h: sqrt(w), E: h + log(w)}")
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, spec.values())
    assert pv.partial("w", "h").reason == "division by zero"
    assert "log of zero" in pv.partial("w", "E").reason
    dist = path_lengths(spec, "w")
    assert dist.gradient is None and "undefined" in dist.note


def test_children_on_demand_build_every_list_after_a_few_scans() -> None:
    spec = load("mlp: {inputs: [x1, x2], layers: [4, 4, 1], loss: mse, targets: [y]}\n"
                "inputs: {x1: 0.5, x2: -1, y: 1}\n")
    graph = spec.graph
    kids = children(spec)
    names = list(spec.names)
    assert len(names) > SCANS_BEFORE_SUCCESSORS
    for i, n in enumerate(names):
        assert graph.children_of(n) == kids[n], n
        assert (graph._succ is not None) == (i >= SCANS_BEFORE_SUCCESSORS), i
    assert graph.path_count("x1", "E") == len(all_paths(spec, "x1", "E")) == 16
