"""explain(): paths, products, sums and the verdict, checked against independent oracles —
sympy's own derivative, central finite differences, and published worked examples."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
import sympy as sp

import pathgrad
from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network
from pathgrad.numeric.evaluate import MPAlgebra, evaluate, to_mpf
from pathgrad.verify.methods import verify


def central_difference(spec, weight: str, values=None, h: str = "1e-20") -> float:
    """∂loss/∂weight by central differences of the composed loss, evaluated with sympy's own
    evalf at 60 digits (an oracle independent of pathgrad's evaluators)."""
    net = Network(spec)
    loss = net.compose(spec.loss)[spec.loss]
    point = {**spec.values(), **(values or {})}
    subs = {net.symbols[n]: sp.Rational(str(v)) for n, v in point.items() if v is not None}
    hh = sp.Rational(h)
    plus = dict(subs)
    minus = dict(subs)
    plus[net.symbols[weight]] += hh
    minus[net.symbols[weight]] -= hh
    f = loss.rewrite(sp.exp)
    return float((f.evalf(60, subs=plus) - f.evalf(60, subs=minus)) / (2 * hh))


def test_question_has_exactly_the_two_chains_of_the_question(examples):
    ex = explain(pathgrad.load(examples / "question.yaml"), "w11")
    assert ex.path_count == 2
    assert [p.chain for p in ex.paths] == [
        "∂E/∂Out · ∂Out/∂a11 · ∂a11/∂a01 · ∂a01/∂w11",
        "∂E/∂Out · ∂Out/∂a12 · ∂a12/∂a01 · ∂a01/∂w11",
    ]
    assert [p.nodes for p in ex.paths] == [
        ("w11", "a01", "a11", "Out", "E"),
        ("w11", "a01", "a12", "Out", "E"),
    ]
    assert ex.verified


def test_local_partials_are_written_in_the_networks_names(examples):
    spec = pathgrad.load(examples / "question.yaml")
    net = Network(spec)
    a01, a11, w21, x1, out, y = sp.symbols("a01 a11 w21 x1 Out y", real=True)
    assert net.local_partial("a01", "a11") == w21 * a11 * (1 - a11)
    assert net.local_partial("w11", "a01") == x1 * a01 * (1 - a01)
    assert net.local_partial("Out", "E") == out - y


def test_question_value_matches_finite_differences(examples):
    spec = pathgrad.load(examples / "question.yaml")
    ex = explain(spec, "w11")
    assert ex.value == pytest.approx(central_difference(spec, "w11"), rel=1e-12)
    assert sum(p.value for p in ex.paths) == pytest.approx(ex.value, rel=1e-12)
    assert sum(p.share for p in ex.paths) == pytest.approx(1.0)


def test_every_factor_is_the_derivative_of_its_node_at_the_point(examples):
    # each factor, evaluated with node values, equals sympy.diff of the node's expression
    # in leaves (composed), evaluated at the point
    spec = pathgrad.load(examples / "question.yaml")
    ex = explain(spec, "w11")
    net = ex.network
    comp = net.compose(spec.loss)
    leaves = {net.symbols[n]: sp.Rational(str(v)) for n, v in spec.values().items()}
    env = {**leaves, **{net.symbols[n]: comp[n].subs(leaves) for n in net.exprs}}
    for p in ex.paths:
        for u, v, factor in zip(p.nodes, p.nodes[1:], p.factors):
            held = {net.symbols[k]: env[net.symbols[k]] for k in net.graph.deps(v) if k != u}
            want = sp.diff(net.exprs[v].subs(held), net.symbols[u]).subs(env)
            got = factor.subs(env)
            assert float(got) == pytest.approx(float(want), rel=1e-12), (u, v)


def test_olah_published_example(examples):
    # Olah: e = (a+b)(b+1) at a=2, b=1; ∂e/∂b = 1·2 + 1·3 = 5, ∂e/∂a = 2
    spec = pathgrad.load(examples / "olah.yaml")
    eb = explain(spec, "b")
    assert eb.value == 5
    assert sorted(p.value for p in eb.paths) == [2, 3]
    assert explain(spec, "a").value == 2


def test_cs231n_published_gradients(examples):
    # CS231n "Backpropagation, Intuitions": dw = [-0.2, -0.39, 0.2], dx = [0.39, -0.59]
    spec = pathgrad.load(examples / "cs231n.yaml")
    got = {n: explain(spec, n).value for n in ("w0", "w1", "w2", "x0", "x1")}
    published = {"w0": -0.2, "w1": -0.39, "w2": 0.2, "x0": 0.39, "x1": -0.59}
    for name, want in published.items():
        assert got[name] == pytest.approx(want, abs=0.006), name


@pytest.mark.parametrize("name,weight", [("shared_weight", "w"), ("question", "w31"),
                                         ("question", "x1"), ("cs231n", "x1")])
def test_examples_verify_and_match_finite_differences(examples, name, weight):
    spec = pathgrad.load(examples / f"{name}.yaml")
    ex = explain(spec, weight)
    assert ex.verified
    assert ex.value == pytest.approx(central_difference(spec, weight), rel=1e-10)


def test_weight_may_be_a_node(examples):
    # ∂E/∂a01 holds everything that does not pass through a01 fixed: it is backprop's δ
    spec = pathgrad.load(examples / "question.yaml")
    ex = explain(spec, "a01")
    assert ex.path_count == 2 and ex.verified
    whole = explain(spec, "w11")
    da01_dw11 = float(Network(spec).local_partial("w11", "a01").subs(
        {sp.Symbol("x1", real=True): 1, sp.Symbol("a01", real=True): ex.node_values["a01"]}))
    assert ex.value * da01_dw11 == pytest.approx(whole.value, rel=1e-12)


def test_set_overrides_a_value(examples):
    spec = pathgrad.load(examples / "question.yaml")
    ex = explain(spec, "w11", {"x1": Fraction(1, 2)})
    assert ex.values["x1"] == Fraction(1, 2)
    assert ex.value == pytest.approx(central_difference(spec, "w11", {"x1": "0.5"}), rel=1e-10)


def test_loss_not_depending_on_the_weight_has_no_paths():
    spec = pathgrad.load("params: {w: 1, v: 2}\nnodes: {h: v^2, E: h + 1}")
    ex = explain(spec, "w")
    assert ex.path_count == 0 and ex.paths == () and ex.sum == 0
    assert ex.value == 0 and ex.verified


def test_unknown_values_leave_numbers_out_but_keep_symbols():
    spec = pathgrad.load("inputs: [x]\nparams: {w: 2}\nnodes: {E: (w*x)^2}")
    ex = explain(spec, "w")
    assert ex.value is None and "x has no value" in ex.value_note
    assert ex.paths[0].value is None
    assert ex.sum == 2 * sp.Symbol("w", real=True) * sp.Symbol("x", real=True) ** 2


def test_undefined_function_value_says_why():
    spec = pathgrad.load("params: {w: -2}\nnodes: {h: log(w), E: h^2}")
    ex = explain(spec, "w")
    assert ex.value is None and "log of a negative number" in ex.value_note
    assert ex.node_values["h"] is None and "log of a negative number" in ex.node_notes["h"]
    assert ex.verified  # the symbolic identity still holds


def test_shared_weight_counts_every_use():
    spec = pathgrad.load("inputs: {x: 0.5}\nparams: {w: 0.3}\n"
                         "nodes: {h1: tanh(w*x), h2: sigmoid(w + h1), E: h1*h2*w}")
    ex = explain(spec, "w")
    assert ex.path_count == 4  # w→E, w→h1→E, w→h2→E, w→h1→h2→E
    assert len(ex.paths) == ex.path_count and ex.verified
    assert ex.value == pytest.approx(central_difference(spec, "w"), rel=1e-10)


def test_a_wrong_sum_is_refuted(examples):
    # the verifier must be able to say no: add a spurious term to the path sum
    spec = pathgrad.load(examples / "question.yaml")
    ex = explain(spec, "w11")
    net = ex.network
    comp = net.compose(spec.loss, free="w11")
    bad = ex.sum + net.symbols["x1"] * net.symbols["a11"] / 1000
    v = verify(net, "w11", bad, ex.direct, comp, spec.values())
    assert not v.verified and "DIFFER" in v.detail


def test_large_sums_are_verified_on_the_dag_modulo_a_prime():
    layers = ["inputs: {x1: 0.2, x2: 0.7}", "params: {}", "nodes:"]
    prev = ["x1", "x2"]
    params = []
    for layer in range(1, 4):
        cur = []
        for j in range(1, 4):
            ws = [f"w{layer}{j}{k}" for k in range(1, len(prev) + 1)]
            params += ws
            terms = " + ".join(f"{w}*{p}" for w, p in zip(ws, prev))
            layers.append(f"  a{layer}{j}: tanh({terms})")
            cur.append(f"a{layer}{j}")
        prev = cur
    layers.append(f"  E: ({' + '.join(prev)})^2")
    text = "\n".join(layers).replace("params: {}", "params: {" + ", ".join(
        f"{p}: 0.{i % 9 + 1}" for i, p in enumerate(params)) + "}")
    spec = pathgrad.load(text)
    ex = explain(spec, "w111")
    assert ex.path_count == 9 and ex.verification.method == "modular"
    assert ex.verification.error_bound < 1e-20
    assert ex.value == pytest.approx(central_difference(spec, "w111"), rel=1e-9)


def test_identities_sympy_rewrites_fall_back_to_numeric_proof():
    # sympy turns sqrt(h^2) into |h| for real h: not a polynomial identity, still true
    spec = pathgrad.load("params: {w: 0.5}\nnodes: {h: w^2 + 1, r: sqrt(h^2), E: r*w}")
    ex = explain(spec, "w")
    assert ex.verified
    assert ex.value == pytest.approx(central_difference(spec, "w"), rel=1e-10)


def test_too_many_paths_is_refused_with_a_suggestion():
    chain = ["params: {w: 1}", "nodes:", "  a0: w", "  b0: w"]
    for i in range(1, 15):
        chain += [f"  a{i}: a{i-1} + b{i-1}", f"  b{i}: a{i-1} * b{i-1}"]
    chain.append("  E: a14 + b14")
    spec = pathgrad.load("\n".join(chain))
    with pytest.raises(pathgrad.LimitError, match="paths to 'E', more than --max-paths") as info:
        explain(spec, "w", max_paths=1000)
    assert "--top K" in info.value.suggestion


def test_numbers_use_exact_decimal_values():
    spec = pathgrad.load("inputs: {x: 0.1}\nparams: {w: 0.3}\nnodes: {E: w*x*10}")
    assert spec.inputs["x"] == Fraction(1, 10)
    with mpmath.workdps(40):
        assert evaluate(sp.Symbol("x", real=True) * 10, {sp.Symbol("x", real=True):
                        to_mpf(spec.inputs["x"])}, MPAlgebra()) == 1


def test_package_level_explain_stays_the_function(examples):
    # importing the module that holds it must not shadow pathgrad.explain (the public API)
    import pathgrad.analyses.explanation  # noqa: F401

    spec = pathgrad.load(examples / "olah.yaml")
    assert pathgrad.explain(spec, "b").value == 5
    assert pathgrad.explain(spec, "a").value == 2


@pytest.mark.parametrize("f", ["sigmoid", "tanh"])
def test_abs_of_something_sympy_cannot_prove_real_still_verifies(f):
    # sympy writes d|f|/dw with re(f), im(f) — even sinh, cosh and arg — when it cannot tell
    # f is real (found by hypothesis); the numeric test must still evaluate them
    spec = pathgrad.load(f"params: {{w0: 0, w1: 0.5}}\nnodes:\n  h0: log(w1)\n  h2: {f}(h0)\n"
                         "  h4: abs(h2)\n  h1: sigmoid(w0)\n  E: h1^2 + h4^2\n")
    ex = explain(spec, "w1")
    assert ex.verified and ex.verification.method in ("modular", "numeric")
    assert ex.value == pytest.approx(central_difference(spec, "w1"), rel=1e-10)


def test_abs_of_a_square_root_verifies():
    # sympy writes d|sqrt(w)|/dw with atan2(0, w) when it cannot tell sqrt(w) is real
    spec = pathgrad.load("params: {w1: 0.5}\nnodes:\n  h3: sqrt(w1)\n  h4: abs(h3)\n"
                         "  E: h4^2\n")
    ex = explain(spec, "w1")
    assert ex.verified
    assert ex.value == pytest.approx(central_difference(spec, "w1"), rel=1e-10)


@pytest.mark.parametrize("source", ["examples/mlp3x3.yaml", "examples/lstm.yaml",
                                    "examples/kink.yaml", "examples/rnn_width2.yaml"])
def test_path_values_sharing_prefixes_equal_the_flat_products(source):
    """explain multiplies each path's factor values keeping the product of the edges it
    shares with the path before; the oracle multiplies every path's factors afresh."""
    from pathgrad.analyses.explanation import DIGITS
    from pathgrad.numeric.evaluate import SympyPoint
    from pathgrad.numeric.exact import ExactAlgebra, exact_leaves, exact_text, times, to_float
    from pathgrad.numeric.points import point_values

    spec = pathgrad.load(Path(__file__).resolve().parents[1] / source)
    for weight in list(spec.params)[:3]:
        ex = explain(spec, weight)
        with mpmath.workdps(DIGITS):
            known = point_values(spec, ex.values, ()).exact_values
            point = SympyPoint(ex.network, exact_leaves(ex.values), ExactAlgebra(), values=known)
            flat = [times([point.value(f) for f in p.factors]) for p in ex.paths]
        assert [p.value for p in ex.paths] == [to_float(v) for v in flat]
        assert [p.exact for p in ex.paths] == [exact_text(v) for v in flat]
