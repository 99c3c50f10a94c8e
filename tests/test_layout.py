"""The layered layout (render/layout.py) and the neuron view's units (render/units.py),
against brute force: every permutation of small layers for crossing counts, random feasible
rows for the row regression, geometric segment intersection for the crossing counter."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathgrad
from pathgrad.render import layout, units
from pathgrad.render.layout import Layered, crossings, isotonic, layered


@st.composite
def layered_dags(draw, max_columns: int = 5, max_width: int = 4):
    """Names in columns and edges that each go to a later column (long edges included)."""
    widths = draw(st.lists(st.integers(1, max_width), min_size=2, max_size=max_columns))
    column = {f"n{c}_{i}": c for c, w in enumerate(widths) for i in range(w)}
    names = list(column)
    pairs = [(u, v) for u in names for v in names if column[v] > column[u]]
    edges = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=12, unique=True))
    order = draw(st.permutations(names))
    return list(order), edges, column


def _gap(a: bool, b: bool) -> float:
    return layout.DUMMY_GAP if a and b else layout.MIXED_GAP if a or b else 1.0


@settings(max_examples=80, deadline=None)
@given(dag=layered_dags())
def test_rows_keep_nodes_and_dummies_apart_and_bends_cross_every_column(dag):
    names, edges, column = dag
    lay = layered(names, edges, column)
    assert set(lay.row) == set(names)
    points: dict[int, list[tuple[float, bool]]] = {}
    for n in names:
        points.setdefault(column[n], []).append((lay.row[n], False))
    for u, v in edges:
        bends = lay.bends[(u, v)]
        assert [c for c, _ in bends] == list(range(column[u] + 1, column[v]))
        for c, r in bends:
            points[c].append((r, True))
    for col in points.values():
        col.sort()
        for (r1, d1), (r2, d2) in zip(col, col[1:]):
            assert r2 - r1 >= _gap(d1, d2) - 1e-6
    assert layered(names, edges, column) == lay  # deterministic


def _crossings_brute(a, b, edges, pa, pb) -> int:
    pos = {**{n: i for i, n in enumerate(pa)}, **{n: i for i, n in enumerate(pb)}}
    segs = [(pos[u], pos[v]) for u, v in edges]
    return sum(1 for s, t in itertools.combinations(segs, 2) if (s[0] - t[0]) * (s[1] - t[1]) < 0)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_crossing_reduction_never_loses_to_the_given_order(data):
    a = [f"a{i}" for i in range(data.draw(st.integers(1, 5)))]
    b = [f"b{i}" for i in range(data.draw(st.integers(1, 5)))]
    edges = data.draw(st.lists(st.tuples(st.sampled_from(a), st.sampled_from(b)), min_size=1,
                               max_size=10, unique=True))
    column = {**dict.fromkeys(a, 0), **dict.fromkeys(b, 1)}
    lay = layered(a + b, edges, column)
    got = crossings(lay, edges, column)
    # the counter agrees with counting pairs of segments that cross, in the layout's order
    order_a = sorted(a, key=lay.row.get)
    order_b = sorted(b, key=lay.row.get)
    assert got == _crossings_brute(a, b, edges, order_a, order_b)
    assert got <= _crossings_brute(a, b, edges, a, b)
    best = min(_crossings_brute(a, b, edges, pa, pb) for pa in itertools.permutations(a)
               for pb in itertools.permutations(b))
    assert got >= best


@pytest.mark.parametrize("seed", range(40))
def test_forests_are_drawn_without_crossings_whatever_the_order_of_names(seed):
    rnd = random.Random(seed)
    widths = [rnd.randint(1, 3), rnd.randint(2, 5), rnd.randint(2, 6)]
    layers = [[f"L{c}_{i}" for i in range(w)] for c, w in enumerate(widths)]
    edges = []
    for c in range(2):
        parents = [rnd.randrange(widths[c]) for _ in range(widths[c + 1])]
        edges += [(layers[c][p], layers[c + 1][j]) for j, p in enumerate(parents)]
    names = [n for layer in layers for n in layer]
    rnd.shuffle(names)
    column = {n: c for c, layer in enumerate(layers) for n in layer}
    assert crossings(layered(names, edges, column), edges, column) == 0


@settings(max_examples=200)
@given(data=st.data())
def test_isotonic_rows_are_feasible_and_no_feasible_rows_are_closer(data):
    n = data.draw(st.integers(1, 6))
    target = data.draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n))
    gaps = data.draw(st.lists(st.sampled_from([0.5, 0.75, 1.0]), min_size=n - 1,
                              max_size=n - 1))
    weights = data.draw(st.lists(st.floats(0.5, 9), min_size=n, max_size=n))
    got = isotonic(target, gaps, weights)
    for i, g in enumerate(gaps):
        assert got[i + 1] - got[i] >= g - 1e-9

    def cost(p):
        return sum(w * (x - t) ** 2 for x, t, w in zip(p, target, weights))

    rnd = random.Random(data.draw(st.integers(0, 10**6)))
    for _ in range(100):  # random feasible rows: a start and gaps at least as wide
        p = [rnd.uniform(-6, 6)]
        for g in gaps:
            p.append(p[-1] + g + rnd.choice([0, 0, rnd.uniform(0, 3)]))
        assert cost(got) <= cost(p) + 1e-7


def test_a_long_edge_bends_through_a_dummy_that_no_node_shares():
    names = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "b")]
    column = {"a": 0, "d": 0, "b": 1, "c": 2}
    lay = layered(names, edges, column)
    ((c, r),) = lay.bends[("a", "c")]
    assert c == 1 and abs(r - lay.row["b"]) >= layout.MIXED_GAP
    with pytest.raises(ValueError, match="later column"):
        layered(names, [("b", "a")], column)


def test_layered_empty_and_crossings_example():
    assert layered([], [], {}) == Layered({}, {})


def test_units_found_in_the_mlp_and_rnn_examples(examples):
    mazur = units.find(pathgrad.load(examples / "mazur.yaml"))
    assert set(mazur.units) == {"a1_1", "a1_2", "a2_1", "a2_2"}
    assert mazur.units["a1_1"] == units.Unit("z1_1", "a1_1", (("x1", "w1_1_1"),
                                                              ("x2", "w1_1_2")), ("b1",))
    assert mazur.absorbed == {"w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2", "b1", "w2_1_1",
                              "w2_1_2", "w2_2_1", "w2_2_2", "b2"}
    rnn = units.find(pathgrad.load(examples / "rnn.yaml"))
    assert rnn.units["h2"].inputs == (("h1", "w"), ("x2", "u"))
    assert rnn.units["o3"] == units.Unit("o3", None, (("h3", "v"),), ("c",))
    # in the question only Out = w31·a11 + w32·a12 is a weighted sum (a01 = σ(w11·x1) is
    # a function of a product, not a sum of weighted inputs)
    question = units.find(pathgrad.load(examples / "question.yaml"))
    assert question.units == {"Out": units.Unit("Out", None, (("a11", "w31"), ("a12", "w32")),
                                                ())}


def test_a_param_used_outside_a_weighted_sum_stays_a_node():
    spec = pathgrad.load("inputs: {x: 1}\nparams: {w: 2, b: 0}\n"
                         "nodes: {z: w*x + b, a: tanh(z), E: (a - w)^2}")
    found = units.find(spec)
    assert set(found.units) == {"a"} and found.absorbed == {"b"}
