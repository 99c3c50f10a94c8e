"""Exact numbers at kinks (issue 17): decimals are exact rationals, kinks are decided exactly,
and every engine follows the README's conventions (relu′(0) = 0, |x|′(0) = 0, a tie of max
or min gives ½ to each tied argument).

The oracle is sympy with Rationals: the test composes the loss itself (its own formulas, not
pathgrad's parser), differentiates it, substitutes the exact decimals and lets sympy evaluate
Heaviside, sign, Max and Min exactly.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import pathgrad
from pathgrad.analyses.backprop import backprop
from pathgrad.analyses.lengths import path_lengths
from pathgrad.analyses.toppaths import top_paths
from pathgrad.calculus import Network, relu, sigmoid, softplus
from pathgrad.numeric import exact as exact_module
from pathgrad.numeric.evaluate import MPAlgebra, NoValue, SympyPoint, evaluate
from pathgrad.numeric.exact import KINK, ExactAlgebra, at_point
from pathgrad.numeric.points import DIGITS, leaf_numbers, point_values
from pathgrad.render import jsonout

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HALF = Fraction(1, 2)

# ---------------------------------------------------------------- the documented conventions

# (nodes, the weight, ∂E/∂weight at the point by the README's rule), every leaf at a kink
CONVENTIONS = [
    ("E: relu(z)", "z", Fraction(0)),  # relu′(0) = 0 (PyTorch: threshold_backward)
    ("E: abs(z)", "z", Fraction(0)),  # |x|′(0) = sign(0) = 0 (PyTorch: grad · sgn(x))
    ("E: max(z, 0)", "z", HALF),  # a tie: ½ to each argument (PyTorch: torch.maximum)
    ("E: min(0, z)", "z", HALF),
    ("E: max(z, t)", "t", HALF),
    ("E: min(z, t)", "z", HALF),
    ("E: max(z, t, s)", "s", HALF),  # three tied: ½ each (sympy's rule; torch.amax: ⅓)
    ("E: max(z, -z)", "z", Fraction(0)),  # ½ − ½
    ("h: 3*z; E: relu(h) + abs(h)", "z", Fraction(0)),
]


def leaves_exact(spec: pathgrad.Spec, net: Network) -> dict:
    return {net.symbols[n]: v for n, v in spec.values().items()}


def _spec(nodes: str) -> pathgrad.Spec:
    body = "".join(f"  {line.strip()}\n" for line in nodes.split(";"))
    return pathgrad.load("params: {z: 0, t: 0, s: 0}\nnodes:\n" + body)


@pytest.mark.parametrize(("nodes", "weight", "want"), CONVENTIONS)
def test_every_engine_follows_the_kink_conventions(nodes: str, weight: str, want: Fraction):
    spec = _spec(nodes)
    net = Network(spec)
    # calculus.py's sympy functions: diff of the composed loss, exact values substituted
    composed = net.compose("E")["E"]
    leaves = {net.symbols[n]: 0 for n in ("z", "t", "s")}
    assert sp.diff(composed, net.symbols[weight]).subs(leaves) == sp.Rational(want)
    if hasattr(net, "compose_symengine"):  # the symengine engine, where it is installed
        from pathgrad.calculus import from_symengine, symengine_derivative

        se_loss = net.compose_symengine("E")["E"]
        ours = from_symengine(symengine_derivative(se_loss, net.se_symbols[weight]),
                              net.symbols)
        assert ours.subs(leaves) == sp.Rational(want)
        assert evaluate(ours, leaves_exact(spec, net), ExactAlgebra()) == want
    with mpmath.workdps(DIGITS):
        # the sympy-DAG evaluator on the local partials, exact and in mpmath
        for point in (at_point(net, spec.values()),
                      SympyPoint(net, leaf_numbers(spec, spec.values()), MPAlgebra())):
            total = 0
            for p in spec.graph.paths(weight, "E"):
                term = 1
                for u, v in zip(p, p[1:]):
                    term *= point.value(net.local_partial(u, v))
                total += term
            assert total == want
        # the AST evaluator, exact and in mpmath
        for algebra in (None, MPAlgebra()):
            pv = point_values(spec, spec.values(), algebra=algebra)
            total = 0
            for p in spec.graph.paths(weight, "E"):
                term = 1
                for u, v in zip(p, p[1:]):
                    term *= pv.exact_partials[(u, v)]
                total += term
            assert total == want
    # and what the analyses report
    assert pathgrad.explain(spec, weight).value == float(want)
    assert pathgrad.explain(spec, weight).value_exact == str(want)
    assert backprop(spec, weight).value == float(want)
    assert top_paths(spec, weight, 3).value == float(want)
    assert path_lengths(spec, weight).gradient == float(want)


def test_max_derivative_in_calculus_is_the_documented_tie_rule():
    a, b, c = sp.symbols("a b c", real=True)
    assert sp.diff(relu(a), a).subs(a, 0) == 0
    assert sp.diff(sp.Abs(a), a).subs(a, 0) == 0
    assert sp.diff(sp.Max(a, b), a).subs({a: 1, b: 1}) == HALF
    assert sp.diff(sp.Min(a, b), b).subs({a: 1, b: 1}) == HALF
    assert sp.diff(sp.Max(a, b, c), c).subs({a: 1, b: 1, c: 1}) == HALF


# ---------------------------------------------------------------- property test: exact kinks

DECIMALS = ["0.1", "0.2", "0.3", "-0.4", "1.5", "-0.25", "0.7", "2", "-1.1", "0.05", "-3"]
DELTAS = [Fraction(0), Fraction(0), Fraction(0), Fraction(1, 100), Fraction(-3, 100)]

# (text in the spec, the same function for the oracle); z and u are nodes (often exactly 0)
KINKS = [
    ("relu(z)", lambda z, u: relu(z)),
    ("abs(z)", lambda z, u: sp.Abs(z)),
    ("max(z, 0)", lambda z, u: sp.Max(z, 0)),
    ("min(0, z)", lambda z, u: sp.Min(0, z)),
    ("max(z, u)", lambda z, u: sp.Max(z, u)),
    ("min(u, z)", lambda z, u: sp.Min(u, z)),
    ("max(z, -z)", lambda z, u: sp.Max(z, -z)),
    ("max(z, u, 0)", lambda z, u: sp.Max(z, u, 0)),
    ("relu(tanh(z))", lambda z, u: relu(sp.tanh(z))),
    ("abs(sin(u))", lambda z, u: sp.Abs(sp.sin(u))),
    ("max(sigmoid(z), 0.5)", lambda z, u: sp.Max(sigmoid(z), sp.Rational(1, 2))),
    ("min(exp(u), 1)", lambda z, u: sp.Min(sp.exp(u), 1)),
    ("relu(softplus(z) - log(2))", lambda z, u: relu(softplus(z) - sp.log(2))),
    ("abs(tanh(z) - tanh(u))", lambda z, u: sp.Abs(sp.tanh(z) - sp.tanh(u))),
]


def _decimal(x: Fraction) -> str:
    """A terminating fraction as a decimal numeral (exactly)."""
    return format(Decimal(x.numerator) / Decimal(x.denominator), "f")


@st.composite
def kink_specs(draw: st.DrawFn) -> tuple[str, dict, list[int]]:
    """z = Σ w_i·x_i + b with b chosen so z is exactly 0 (or a small nice offset), u = c·x1 + q
    likewise, then one to three functions with kinks at z and u, and E = (o − y)²."""
    k = draw(st.integers(1, 2))
    values = {f"x{i}": draw(st.sampled_from(DECIMALS)) for i in range(1, k + 1)}
    values |= {f"w{i}": draw(st.sampled_from(DECIMALS)) for i in range(1, k + 1)}
    values["c"] = draw(st.sampled_from(DECIMALS))
    values["y"] = draw(st.sampled_from(DECIMALS))
    f = {n: Fraction(v) for n, v in values.items()}
    wx = sum(f[f"w{i}"] * f[f"x{i}"] for i in range(1, k + 1))
    values["b"] = _decimal(-wx + draw(st.sampled_from(DELTAS)))
    values["q"] = _decimal(-f["c"] * f["x1"] + draw(st.sampled_from(DELTAS)))
    picks = draw(st.lists(st.integers(0, len(KINKS) - 1), min_size=1, max_size=3))
    for j in range(len(picks)):
        values[f"v{j}"] = draw(st.sampled_from(DECIMALS))
    z = " + ".join(f"w{i}*x{i}" for i in range(1, k + 1)) + " + b"
    kinks = "\n".join(f"  k{j}: {KINKS[p][0]}" for j, p in enumerate(picks))
    o = " + ".join(f"v{j}*k{j}" for j in range(len(picks))) + " + z*u"
    inputs = [n for n in values if n.startswith("x") or n == "y"]
    params = [n for n in values if n not in inputs]
    text = ("inputs: {" + ", ".join(f"{n}: {values[n]}" for n in inputs) + "}\n"
            "params: {" + ", ".join(f"{n}: {values[n]}" for n in params) + "}\n"
            f"nodes:\n  z: {z}\n  u: c*x1 + q\n{kinks}\n  o: {o}\n  E: (o - y)^2\n")
    return text, values, picks


def _oracle_value(expr: sp.Expr) -> sp.Expr:
    """sympy's exact value: relu as Max(0, ·), σ and softplus written out, then evaluated."""
    out = expr.rewrite(sigmoid, sp.exp).rewrite(softplus, sp.log).rewrite(relu, sp.Max)
    assert not out.has(sp.Heaviside, sp.sign, sp.Max, sp.Min, sp.Abs), out
    return out


def _check(got: float | None, exact: str | None, want: sp.Expr, what: str) -> None:
    if want.is_Rational:
        assert exact == str(Fraction(int(want.p), int(want.q))), (what, exact, want)
        assert got == float(want), (what, got, want)
    else:
        assert exact is None, (what, exact, want)
        assert got == pytest.approx(float(sp.N(want, 30)), rel=1e-12, abs=1e-300), what


@FAST
@given(kink_specs(), st.sampled_from(["w1", "b", "q", "v0"]))
def test_values_at_kinks_hit_exactly_equal_sympys_exact_values(case, weight: str) -> None:
    text, values, picks = case
    spec = pathgrad.load(text)
    sym = {n: sp.Symbol(n, real=True) for n in values}
    k = sum(1 for n in values if n.startswith("w"))
    z = sum(sym[f"w{i}"] * sym[f"x{i}"] for i in range(1, k + 1)) + sym["b"]
    u = sym["c"] * sym["x1"] + sym["q"]
    ks = [KINKS[p][1](z, u) for p in picks]
    o = sum(sym[f"v{j}"] * kj for j, kj in enumerate(ks)) + z * u
    loss = (o - sym["y"]) ** 2
    at = {s: sp.Rational(str(Fraction(values[n]))) for n, s in sym.items()}
    nodes = {"z": z, "u": u, **{f"k{j}": kj for j, kj in enumerate(ks)}, "o": o, "E": loss}
    want = _oracle_value(sp.diff(loss, sym[weight]).subs(at))
    ex = pathgrad.explain(spec, weight)
    _check(ex.value, ex.value_exact, want, f"∂E/∂{weight}")
    printed = json.loads(jsonout.dumps(jsonout.explanation(ex)))  # what --format json prints
    _check(printed["value"], printed["value_exact"], want, f"printed ∂E/∂{weight}")
    for n, e in nodes.items():
        _check(ex.node_values[n], ex.node_values_exact[n], _oracle_value(e.subs(at)), n)
        _check(printed["node_values"][n], printed["node_values_exact"][n],
               _oracle_value(e.subs(at)), f"printed {n}")
    node_at = {ex.network.symbols[n]: _oracle_value(e.subs(at)) for n, e in nodes.items()}
    leaf_at = {ex.network.symbols[n]: v for n, v in
               ((n, at[sym[n]]) for n in values)}
    for p in ex.paths:
        term = _oracle_value(p.term.xreplace(node_at).xreplace(leaf_at))
        _check(p.value, p.exact, term, "path " + " → ".join(p.nodes))
    assert backprop(spec, weight).value == pytest.approx(float(want), rel=1e-12, abs=0)
    assert top_paths(spec, weight, 3).value == pytest.approx(float(want), rel=1e-12, abs=0)
    assert path_lengths(spec, weight).gradient == pytest.approx(float(want), rel=1e-12,
                                                                abs=0)


def test_a_kink_behind_a_transcendental_value_is_proved_by_sympy():
    # softplus(0.1·3 − 0.3) − log 2: the enclosure straddles 0, sympy proves it is 0 exactly
    spec = pathgrad.load("params: {w: 0.1, b: -0.3}\nnodes: {z: 3*w + b, "
                         "h: relu(softplus(z) - log(2)), E: h + 5*abs(tanh(z))}")
    ex = pathgrad.explain(spec, "w")
    assert ex.value_exact == "0" and ex.node_values_exact["h"] == "0"
    # σ(u) against ½ with u ≠ 0: decided by the enclosure alone
    spec = pathgrad.load("params: {u: -0.02}\nnodes:\n  E: max(sigmoid(u), 0.5)\n")
    assert pathgrad.explain(spec, "u").value == 0.0


def test_a_kink_that_cannot_be_decided_says_so(monkeypatch, run, tmp_path):
    # sin²x + cos²x − 1 is 0, but only a proof can tell; without sympy's proof it is undecided
    monkeypatch.setattr(exact_module, "PROOF_NODES", 0)
    spec_text = ("params: {x: 0.3}\n"
                 "nodes: {h: sin(x)^2 + cos(x)^2 - 1, E: relu(h) + x}\n")
    ex = pathgrad.explain(pathgrad.load(spec_text), "x")
    notes = [p.note for p in ex.paths if p.value is None]
    assert notes == [KINK]
    assert ex.value == 1.0  # the other path (∂E/∂x = 1 directly) is still a number
    path = tmp_path / "undecided.yaml"
    path.write_text(spec_text)
    data = json.loads(run("explain", str(path), "-w", "x", "-f", "json").stdout)
    assert [p.get("note") for p in data["paths"]].count(KINK) == 1
    monkeypatch.undo()
    ex = pathgrad.explain(pathgrad.load(spec_text), "x")  # with the proof: decided, relu′(0) = 0
    assert all(p.value is not None for p in ex.paths) and ex.value == 1.0


def test_exact_decisions_never_come_from_rounding_noise():
    # 0.1·3 − 0.3 is 5.55e-17 in binary floats: abs(tanh(z))′ would be tanh′·sign = ±1
    spec = pathgrad.load("params: {w: 0.1, b: -0.3}\nnodes: {z: 3*w + b, E: abs(tanh(z))}")
    assert pathgrad.explain(spec, "w").value == 0.0
    alg = ExactAlgebra()
    x = sp.Symbol("x", real=True)
    with mpmath.workdps(DIGITS):
        assert evaluate(sp.sign(sp.tanh(x) - sp.tanh(x / 2) * 0 - sp.tanh(x)),
                        {x: Fraction(1, 7)}, alg) == 0
        y = sp.Symbol("y", real=True)
        at = {x: Fraction(1, 7), y: Fraction(1, 7)}
        assert evaluate(sp.log(y - x), at, alg) == NoValue("log of zero")
        # two equal transcendental values: the enclosure of their difference holds 0, and
        # sympy proves tanh(1/7) − tanh(1/7) = 0
        assert evaluate(sp.log(sp.tanh(y) - sp.tanh(x)), at, alg) == NoValue("log of zero")
        assert evaluate(sp.Heaviside(sp.tanh(y) - sp.tanh(x), 0), at, alg) == 0


# ---------------------------------------------------------------- the issue's example, printed


def test_the_issue_example_explains_to_zero_in_every_format(run, examples):
    spec = str(examples / "kink.yaml")
    for weight in ("w1", "w2", "b"):
        data = json.loads(run("explain", spec, "-w", weight, "-f", "json").stdout)
        assert data["value"] == 0 and data["value_exact"] == "0"
        assert all(p["value"] == 0 and p["value_exact"] == "0" for p in data["paths"])
        assert data["node_values"]["z"] == 0 and data["node_values_exact"]["z"] == "0"
        assert data["node_values_exact"]["E"] == "1"
        table = run("explain", spec, "-w", weight).stdout
        assert re.search(r"^value\s+0\s*$", table, re.M), table
        assert re.search(r"(^|\s)z = 0(\s|$)", table, re.M), table
        for fmt, pattern in (("markdown", r"\$z = 0\$"), ("latex", r"\$z = 0\$"),
                             ("html", r"<mi>z</mi><mo>=</mo><mn>0</mn>")):
            out = run("explain", spec, "-w", weight, "-f", fmt).stdout
            assert re.search(pattern, out), fmt
            assert "e-32" not in out and "e-33" not in out, fmt
        bp = run("backprop", spec, "-w", weight).stdout
        assert re.search(rf"δ_{weight} = ∂E/∂{weight} = 0\s*$", bp, re.M), bp
        bpj = json.loads(run("backprop", spec, "-w", weight, "-f", "json").stdout)
        assert bpj["value"] == 0
        top = run("explain", spec, "-w", weight, "--top", "2").stdout
        assert re.search(rf"∂E/∂{weight}\s+0\s", top), top


@settings(max_examples=300, deadline=None)
@given(st.integers(-9_999, 9_999).filter(lambda e: abs(e) > 330),
       st.integers(1, 10**12), st.booleans())
@example(-424, 7, True).via("a round mantissa")
@example(-2349, 9999995, False).via("a rounding edge")
@example(400, 1234565, False).via("a rounding edge")
def test_a_value_beyond_a_float_is_written_as_nstr_writes_it(exponent, digits, negative):
    # the note's 6 digits come from the binary exponent, not mpmath's full conversion; the
    # mantissas include round ones (7e-424 → 7.0e-424) and rounding edges (9.999995)
    with mpmath.workdps(DIGITS):
        mantissa = mpmath.mpf(digits) / 10 ** (len(str(digits)) - 1)  # 1 ≤ mantissa < 10
        x = (-1 if negative else 1) * mantissa * mpmath.mpf(10) ** exponent
        note = exact_module.within_float(x)
        size = "large" if exponent > 0 else "small"
        assert note.reason == f"too {size} for a float ({mpmath.nstr(x, 6)})"
