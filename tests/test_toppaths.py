"""Top-K paths: equal to sorting the full listing, on nets small enough to list."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from randomnets import all_paths, networks

from pathgrad import load
from pathgrad.analyses.explanation import explain
from pathgrad.analyses.toppaths import top_paths
from pathgrad.errors import UsageError

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sorted_listing(spec, weight: str) -> list[tuple[tuple[str, ...], float]] | None:  # noqa: ANN001
    """The oracle: every path with its value from explain (sympy's partials), sorted by
    |value| (largest first), ties in listing order; paths of value 0 dropped. None when a
    value is beyond a float."""
    ex = explain(spec, weight)
    values = {p.nodes: p.value for p in ex.paths}
    if any(v is None for v in values.values()):
        return None
    listing = all_paths(spec, weight, "E")  # our own DFS: the listing order
    ranked = sorted(enumerate(listing), key=lambda ip: (-abs(values[ip[1]]), ip[0]))
    return [(p, values[p]) for _, p in ranked if values[p] != 0]


@FAST
@given(networks(), st.integers(1, 12), st.data())
def test_top_k_equals_the_sorted_full_listing(text: str, k: int, data: st.DataObject) -> None:
    spec = load(text)
    weight = data.draw(st.sampled_from([*spec.params, *spec.inputs]))
    oracle = sorted_listing(spec, weight)
    assume(oracle is not None)
    top = top_paths(spec, weight, k)
    assert [p.nodes for p in top.paths] == [p for p, _ in oracle[:k]]
    for p, (_, value) in zip(top.paths, oracle):
        assert p.value == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert top.nonzero_count == len(oracle)
    assert top.path_count == len(all_paths(spec, weight, "E"))
    exact = sum(v for _, v in oracle)
    assert top.value == pytest.approx(exact, rel=1e-9, abs=1e-12)
    assert top.covered == pytest.approx(sum(v for _, v in oracle[:k]), rel=1e-9, abs=1e-12)
    if oracle:
        mass = sum(abs(v) for _, v in oracle)
        assert top.mass_share == pytest.approx(sum(abs(v) for _, v in oracle[:k]) / mass)


def test_ties_keep_the_listing_order_and_signs_survive() -> None:
    # four paths w → a_i → E of equal |value| 6 = 1·6 = 2·3 = 3·2 = −6·−1 … with signs ±
    spec = load("""
params: {w: 1}
nodes:
  a1: 6*w
  a2: 2*w
  a3: 3*w
  a4: -6*w
  E: a1 + 3*a2 + 2*a3 + a4 + 0*w
""")
    top = top_paths(spec, "w", 10)
    assert [p.nodes for p in top.paths] == [("w", "a1", "E"), ("w", "a2", "E"),
                                             ("w", "a3", "E"), ("w", "a4", "E")]
    assert [p.value for p in top.paths] == [6.0, 6.0, 6.0, -6.0]
    assert top.path_count == 5 and top.nonzero_count == 4  # w → E directly has partial 0
    assert top.value == 12.0 and top.covered == 12.0 and top.share == 1.0


def test_zero_partials_are_said_and_filled_only_when_asked() -> None:
    spec = load("params: {w: 1, b: -5}\nnodes: {h: relu(w + b), g: w*2, E: h + g}")
    top = top_paths(spec, "w", 3)
    assert [p.nodes for p in top.paths] == [("w", "g", "E")]
    assert top.nonzero_count == 1 and top.path_count == 2
    filled = top_paths(spec, "w", 3, fill_zeros=True)
    assert [p.nodes for p in filled.paths] == [("w", "g", "E"), ("w", "h", "E")]
    assert filled.paths[1].value == 0.0 and filled.zero_filled == 1


def test_symbolic_products_are_explains() -> None:
    spec = load("params: {w11: 0.5, w21: -1.2, w22: 0.8, w31: 1.5, w32: -0.7}\n"
                "inputs: {x1: 1, y: 0}\nnodes:\n  a01: sigmoid(w11*x1)\n"
                "  a11: sigmoid(w21*a01)\n  a12: sigmoid(w22*a01)\n"
                "  Out: w31*a11 + w32*a12\n  E: (Out - y)^2/2\n")
    ex = explain(spec, "w11")
    top = top_paths(spec, "w11", 2)
    by_nodes = {p.nodes: p for p in ex.paths}
    for p in top.paths:
        assert p.factors == by_nodes[p.nodes].factors and p.term == by_nodes[p.nodes].term
        assert p.share == pytest.approx(by_nodes[p.nodes].share)


def test_the_top_of_an_mlp_is_its_sorted_listing() -> None:
    spec = load("mlp: {inputs: [x1, x2], layers: [3, 3, 3, 3, 1], targets: [y]}\n"
                "inputs: {x1: 0.5, x2: -1, y: 1}\n")
    oracle = sorted_listing(spec, "w1_1_1")
    assert oracle is not None
    top = top_paths(spec, "w1_1_1", 5)
    assert top.path_count == 3**3 and [p.nodes for p in top.paths] == [p for p, _ in oracle[:5]]


def test_bad_requests() -> None:
    spec = load("inputs: [x]\nparams: {w: 1}\nnodes: {E: w*x}")
    with pytest.raises(UsageError, match=r"∂E/∂w is undefined at the point \(x has no value\)"):
        top_paths(spec, "w", 3)
    with pytest.raises(UsageError, match="at least 1"):
        top_paths(spec, "w", 0, {"x": 1})
    assert top_paths(spec, "w", 1, {"x": 2}).value == 2.0
