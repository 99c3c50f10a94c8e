"""The shortcuts that make a 300k-param net fast give what the plain code gives: the exact
sum of products (numeric.exact.dot) against plus/times, the forward pass from a builder's names
(model.LazyNodes.products) against the AST sweep and an independent mpmath MLP, and the JSON
writer against json.dumps."""

from __future__ import annotations

import json
from fractions import Fraction
from unittest.mock import patch

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlp_oracle import forward, mlp_specs, values_of

from pathgrad.numeric import exact
from pathgrad.numeric.evaluate import NoValue
from pathgrad.numeric.points import point_values
from pathgrad.render.jsonout import dumps
from pathgrad.spec import load as loads
from pathgrad.spec.model import apply_values

# --- numeric.exact.dot ------------------------------------------------------------------------

_RATIONALS = st.fractions(min_value=-5, max_value=5, max_denominator=50)


@st.composite
def numbers(draw: st.DrawFn):
    """A Fraction (often 0), a Real (a transcendental value, sometimes tiny or huge), or NoValue."""
    kind = draw(st.sampled_from(["zero", "rational", "real", "real", "tiny", "novalue"]))
    if kind == "zero":
        return Fraction(0)
    q = draw(_RATIONALS)
    if kind == "rational":
        return q
    if kind == "novalue":
        return NoValue("x has no value")
    with mpmath.workdps(30):  # the tests' working precision: a Real's mid is made at it
        e = exact.ExactAlgebra().func("exp", [q])
        if kind == "tiny":  # 10^-300 · e^q: far from the others in exponent
            return exact.times([Fraction(1, 10**300), e])
        return exact.times([q, e]) if q else e


def _same(a, b) -> None:
    """Equal as the exact algebra sees them: the same kind, the same Fraction, or Reals whose
    values agree to the working precision."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, exact.Real):
        scale = max(abs(a.mid), abs(b.mid), mpmath.mpf(10) ** -400)
        assert abs(a.mid - b.mid) <= scale * mpmath.mpf(2) ** (8 - mpmath.mp.prec), (a, b)
    else:
        assert a == b


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(numbers(), numbers()), max_size=6), st.lists(numbers(), max_size=3))
def test_dot_is_plus_of_times(pairs, rest) -> None:
    with mpmath.workdps(30):
        plain = exact.plus([*(exact.times([a, b]) for a, b in pairs), *rest])
        fast = exact.dot(pairs, rest)
        if isinstance(plain, NoValue):
            assert isinstance(fast, NoValue)
            return
        _same(fast, plain)
        if isinstance(fast, exact.Real):  # its enclosure holds the value, its sign is the same
            box = exact.enclose(fast, 30)
            assert box.a <= plain.mid <= box.b
            assert exact.sign(fast) in (exact.sign(plain), None)


_WEIGHTS = _RATIONALS.filter(bool)


@st.composite
def _activation(draw: st.DrawFn):
    with mpmath.workdps(30):
        q = draw(_RATIONALS)
        return exact.ExactAlgebra().func(draw(st.sampled_from(["exp", "tanh", "sigmoid"])), [q])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(_WEIGHTS, numbers()), st.one_of(_activation(), numbers())),
                max_size=8),
       st.lists(st.one_of(_RATIONALS, _activation(), numbers()), max_size=3))
def test_dots_one_pass_case_is_the_general_code(pairs, rest) -> None:
    """A weight times an activation, summed in one pass (exact._weighted), is the very Real
    dot's general code makes: the same mid to the last bit, the same terms, the same size."""
    with mpmath.workdps(30):
        fast = exact.dot(pairs, rest)
        with patch.object(exact, "_weighted", lambda *_: None):
            slow = exact.dot(pairs, rest)
    assert type(fast) is type(slow)
    if not isinstance(fast, NoValue):
        assert _tree(fast) == _tree(slow)


def _tree(x):  # noqa: ANN001, ANN202 - a Real as nested tuples: equal when built alike
    if isinstance(x, exact.Real):
        return (x.mid, x.op, tuple(map(_tree, x.args)), x.size)
    return x


@settings(max_examples=300, deadline=None)
@given(st.one_of(_activation(), numbers(), st.just(Fraction(1)), st.just(Fraction(3**3000))),
       st.one_of(_activation(), numbers(), st.just(Fraction(1)), st.just(Fraction(1, 3**3000))))
def test_times_two_factor_shortcut_is_the_general_code(a, b) -> None:
    """times([a, b]) for a path's next factor (Real·Real, Real·weight) is the very Real the
    general code makes, in either order."""
    with mpmath.workdps(30):
        for xs in ([a, b], [b, a]):
            fast, slow = exact.times(xs), exact._product(xs)
            assert type(fast) is type(slow)
            if not isinstance(fast, NoValue):
                assert _tree(fast) == _tree(slow), xs


def test_dots_one_pass_case_is_taken() -> None:
    """… and an mlp unit's sum takes it (the test above would pass if it never did)."""
    with mpmath.workdps(30):
        a = [exact.ExactAlgebra().func("sigmoid", [Fraction(k, 7)]) for k in range(1, 5)]
        pairs = [(Fraction(k, 10), x) for k, x in enumerate(a, 1)]
        assert exact._weighted(pairs, [Fraction(1, 3)]) is not None
        assert exact._weighted([*pairs, (Fraction(0), a[0])], []) is None  # an exact 0 term


def test_dot_of_an_exact_zero_is_decided() -> None:
    """tanh(x) − tanh(x) as one sum: its mid is 0, the enclosure cannot decide, the proof can;
    relu of it is an exact 0, as the plain arithmetic finds."""
    with mpmath.workdps(30):
        t = exact.ExactAlgebra().func("tanh", [Fraction(3, 10)])
        z = exact.dot([(Fraction(1), t), (Fraction(-1), t)])
        assert isinstance(z, exact.Real) and z.op == "dot"
        assert exact.sign(z) == 0
        assert exact.ExactAlgebra().func("relu", [z]) == 0


# --- the forward pass from the builder's names ------------------------------------------------


def _generic(spec, leaf_values):
    """Every node through the AST sweep (every node 'wanted': no shortcut is taken)."""
    return point_values(spec, leaf_values, list(spec.nodes)).exact_values


@settings(max_examples=60, deadline=None)
@given(mlp_specs())
def test_forward_pass_from_names_is_the_sweep_and_the_oracle(text) -> None:
    spec = loads(text)
    leaves = apply_values(spec, None)
    with mpmath.workdps(30):
        fast = point_values(spec, leaves, ()).exact_values
        plain = _generic(spec, leaves)
        assert set(fast) == set(plain)
        for n in spec.nodes:
            _same(fast[n], plain[n])
        cfg = spec.meta["mlp"]
        with mpmath.workdps(40):
            loss, zs = forward(cfg, values_of(spec))
        for l, z in enumerate(zs, 1):  # noqa: E741
            for j, v in enumerate(z, 1):
                got = exact.to_float(fast[f"z{l}_{j}"])
                assert got == pytest.approx(float(v), rel=1e-12, abs=1e-12)
        if not isinstance(fast[spec.loss], NoValue):
            assert exact.to_float(fast[spec.loss]) == pytest.approx(float(loss), rel=1e-12,
                                                                    abs=1e-12)


def test_a_hand_written_sum_of_products_takes_the_same_shortcut() -> None:
    """A spec's own text `a*t + b*s + c` (no builder) is summed in one step too, with the same
    value and the same undefined name as the sweep."""
    spec = loads("params: {a: 1, b: -1, c: 0.5}\ninputs: {x: 0.3, u: null}\n"
                 "nodes: {t: tanh(x), s: tanh(x), z: a*t + b*s + c, q: a*t + u, E: relu(z)*q}")
    leaves = apply_values(spec, None)
    with mpmath.workdps(30):
        fast = point_values(spec, leaves, ()).exact_values
        plain = _generic(spec, leaves)
    assert fast["z"] == plain["z"] == Fraction(1, 2) or isinstance(fast["z"], exact.Real)
    _same(fast["z"], plain["z"])
    assert fast["q"] == plain["q"] == NoValue("u has no value")


# --- the JSON writer --------------------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
_KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
_DATA = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=4) | st.tuples(c, c)
                     | st.dictionaries(_KEYS, c, max_size=4), max_leaves=30)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(_KEYS, _DATA, max_size=5))
def test_dumps_is_json_dumps_indented(data) -> None:
    assert dumps(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- calculus.to_sympy: f(name) built without sympy's eval ---------------------------------


def test_a_function_of_a_name_is_the_object_sympy_builds() -> None:
    import sympy as sp

    from pathgrad.calculus import _AS_IS, SYMPY_FUNCTIONS, to_sympy
    from pathgrad.spec import grammar as g

    h = sp.Symbol("h", real=True)
    for name in _AS_IS:
        fast = to_sympy(g.parse(f"{name}(h)"), {"h": h})
        built = SYMPY_FUNCTIONS[name](h)  # type: ignore[operator]
        assert sp.srepr(fast) == sp.srepr(built) and fast == built and hash(fast) == hash(built)
        assert fast.diff(h) == built.diff(h)
    # an argument that is not a lone name still goes through eval: sin(−h) is −sin(h)
    assert to_sympy(g.parse("sin(-h)"), {"h": h}) == -sp.sin(h)
    assert to_sympy(g.parse("abs(-h)"), {"h": h}) == sp.Abs(h)


def test_sin_and_cos_of_a_name_differentiate_to_what_fdiff_builds() -> None:
    import sympy as sp

    from pathgrad.calculus import _OF_A_NAME

    h = sp.Symbol("h", real=True)
    for f, quick in _OF_A_NAME.items():
        assert sp.srepr(quick(h)) == sp.srepr(f(h).fdiff(1)) == sp.srepr(sp.diff(f(h), h))
