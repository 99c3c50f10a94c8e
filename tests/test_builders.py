"""Network builders against independent oracles: Mazur's published numbers, path counts from the
architecture (∏ widths, T per shared weight, 2^n), forward passes and finite differences written
here from the textbook formulas, and per-example gradients computed one example at a time."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathgrad.analyses.explanation import explain
from pathgrad.calculus import Network
from pathgrad.errors import LimitError, SpecError
from pathgrad.graph import length_counts as path_length_counts
from pathgrad.spec import load
from pathgrad.spec.builders._common import add_all
from pathgrad.spec.grammar import free_names, parse, to_text

mpmath.mp.dps = 50
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- an independent forward pass, straight from the mlp contract in the issue ---------------

ACT = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "tanh": mpmath.tanh,
    "relu": lambda z: max(z, 0),
    "softplus": lambda z: mpmath.log(1 + mpmath.exp(z)),
    "linear": lambda z: z,
}


def mp(v: Fraction) -> mpmath.mpf:
    return mpmath.mpf(v.numerator) / v.denominator


def mlp_loss(vals: dict, inputs, layers, acts, bias, loss, targets) -> mpmath.mpf:
    """E written out from the contract: z = Σ_k w{l}_{j}_{k}·a_k + b, a = act(z), E = …"""
    a = [vals[x] for x in inputs]
    for l, (n, act) in enumerate(zip(layers, acts), 1):  # noqa: E741
        z = []
        for j in range(1, n + 1):
            s = mpmath.fsum(vals[f"w{l}_{j}_{k}"] * a[k - 1] for k in range(1, len(a) + 1))
            if bias != "none":
                s += vals[f"b{l}_{j}" if bias == "unit" else f"b{l}"]
            z.append(s)
        if act == "softmax":
            total = mpmath.fsum(mpmath.exp(v) for v in z)
            a = [mpmath.exp(v) / total for v in z]
        else:
            a = [ACT[act](v) for v in z]
    y = [vals[t] for t in targets]
    if loss == "mse":
        return mpmath.fsum((yj - aj) ** 2 for yj, aj in zip(y, a)) / 2
    if loss == "cross_entropy":
        return -mpmath.fsum(yj * mpmath.log(aj) for yj, aj in zip(y, a))
    return -mpmath.fsum(yj * mpmath.log(aj) + (1 - yj) * mpmath.log(1 - aj)
                        for yj, aj in zip(y, a))


def central_difference(f, vals: dict, name: str) -> mpmath.mpf:
    h = mpmath.mpf(10) ** -20
    up, down = dict(vals), dict(vals)
    up[name] += h
    down[name] -= h
    return (f(up) - f(down)) / (2 * h)


def mlp_yaml(inputs, layers, acts, bias="unit", loss="mse", targets=None, extra="") -> str:
    lines = ["mlp:", f"  inputs: [{', '.join(inputs)}]", f"  layers: {list(layers)}",
             f"  activation: [{', '.join(acts)}]", f"  bias: {bias}", f"  loss: {loss}"]
    if targets:
        lines.append(f"  targets: [{', '.join(targets)}]")
    return "\n".join(lines) + "\n" + extra


# --- Mazur ------------------------------------------------------------------------------------


def test_mazur_published_numbers(examples):
    spec = load(examples / "mazur.yaml")
    w5 = explain(spec, "w2_1_1")  # Mazur's w5
    assert w5.verified and round(w5.value, 9) == 0.082167041
    w1 = explain(spec, "w1_1_1")  # Mazur's w1
    assert w1.verified and round(w1.value, 9) == 0.000438568
    assert w1.path_count == 2
    signs = sorted(math.copysign(1, p.value) for p in w1.paths)
    assert signs == [-1, 1]  # two paths of opposite sign
    # his forward pass: out_o1 = 0.75136507, out_o2 = 0.772928465, E_total = 0.298371109
    assert round(w1.node_values["a2_1"], 8) == 0.75136507
    assert round(w1.node_values["a2_2"], 9) == 0.772928465
    assert round(w1.node_values["E"], 9) == 0.298371109


def test_mazur_names_latex_and_meta(examples):
    spec = load(examples / "mazur.yaml")
    assert list(spec.params) == ["w1_1_1", "w1_1_2", "w1_2_1", "w1_2_2", "b1",
                                 "w2_1_1", "w2_1_2", "w2_2_1", "w2_2_2", "b2"]
    assert list(spec.inputs) == ["x1", "x2", "y1", "y2"]
    assert spec.loss == "E" and spec.builder == "mlp"
    assert spec.latex["w1_2_1"] == "w^{(1)}_{21}"
    assert spec.latex["b1"] == "b^{(1)}"
    assert spec.latex["z1_2"] == "z^{(1)}_{2}"
    assert spec.latex["a2_1"] == "a^{(2)}_{1}"
    assert spec.params["w1_1_1"] == Fraction(15, 100)
    assert "init" not in spec.meta  # every param has a value
    assert spec.meta["builders"] == ["mlp"] and spec.meta["summary"]
    # layer 1 reads the inputs themselves
    assert set(free_names(spec.nodes["z1_1"])) == {"w1_1_1", "x1", "w1_1_2", "x2", "b1"}


def test_unit_bias_names_and_wide_latex():
    spec = load(mlp_yaml(["x"], [12, 1], ["tanh", "sigmoid"], "unit", "bce"))
    assert "b1_12" in spec.params and "b2_1" in spec.params
    assert spec.latex["b1_12"] == "b^{(1)}_{12}"
    assert spec.latex["w2_1_12"] == "w^{(2)}_{1,12}"  # 1,12 — not 11,2
    assert spec.inputs.keys() == {"x", "y"}  # one output unit: the target defaults to y


# --- any mlp: path counts, forward pass, gradients -------------------------------------------

shapes = st.tuples(
    st.integers(1, 3),  # inputs
    st.lists(st.integers(1, 3), min_size=1, max_size=3),  # layers
    st.sampled_from(["unit", "layer", "none"]),
    st.sampled_from(["sigmoid", "tanh", "softplus", "linear", "relu"]),
)


@FAST
@given(shapes)
def test_path_counts_are_products_of_widths(shape):
    n_in, layers, bias, act = shape
    inputs = [f"x{i}" for i in range(1, n_in + 1)]
    spec = load(mlp_yaml(inputs, layers, [act] * len(layers), bias))
    counts = spec.graph.path_counts("E")
    L = len(layers)  # noqa: N806
    after = [math.prod(layers[m:]) for m in range(L + 1)]  # paths from a unit of layer m
    for x in inputs:
        assert counts[x] == math.prod(layers)
    for l in range(1, L + 1):  # noqa: E741
        width_prev = n_in if l == 1 else layers[l - 2]
        for j, k in itertools.product(range(1, layers[l - 1] + 1), range(1, width_prev + 1)):
            assert counts[f"w{l}_{j}_{k}"] == after[l]
        if bias == "unit":
            assert all(counts[f"b{l}_{j}"] == after[l] for j in range(1, layers[l - 1] + 1))
        elif bias == "layer":
            assert counts[f"b{l}"] == after[l - 1]
    n_params = sum(a * b for a, b in zip([n_in, *layers], layers))
    n_params += {"unit": sum(layers), "layer": L, "none": 0}[bias]
    assert len(spec.params) == n_params


@FAST
@given(shapes, st.sampled_from(["mse", "bce", "cross_entropy", "softmax"]),
       st.integers(0, 10**6))
def test_forward_pass_and_gradient_match_the_textbook(shape, loss, seed):
    n_in, layers, bias, act = shape
    acts = [act] * len(layers)
    if loss == "softmax":
        layers = [*layers[:-1], max(layers[-1], 2)]
        acts[-1], loss = "softmax", "cross_entropy"
    elif loss != "mse":
        acts[-1] = "sigmoid"  # keeps a in (0, 1), where log is real
    inputs = [f"x{i}" for i in range(1, n_in + 1)]
    targets = [f"t{j}" for j in range(1, layers[-1] + 1)]
    values = ", ".join(f"{x}: {Fraction(i + 1, 7)}" for i, x in enumerate(inputs)) + ", " + \
        ", ".join(f"{t}: {Fraction(j + 1, 2 * len(targets) + 1)}" for j, t in enumerate(targets))
    spec = load(mlp_yaml(inputs, layers, acts, bias, loss, targets,
                         f"inputs: {{{values}}}\n") .replace("  loss:", f"  init: {{seed: {seed}}}"
                                                             "\n  loss:"))
    vals = {n: mp(v) for n, v in spec.values().items()}
    want = mlp_loss(vals, inputs, layers, acts, bias, loss, targets)
    net = Network(spec)
    point = {net.symbols[n]: sp.Rational(v.numerator, v.denominator)
             for n, v in spec.values().items()}
    got = sp.N(net.compose("E")["E"].xreplace(point), 40)
    assert abs(got - sp.Float(str(want), 40)) < 1e-30 * max(1, abs(want))
    weight = "w1_1_1" if act != "relu" else "w%d_1_1" % len(layers)
    ex = explain(spec, weight)
    assert ex.verified

    def f(v):
        return mlp_loss(v, inputs, layers, acts, bias, loss, targets)

    fd = central_difference(f, vals, weight)
    assert abs(ex.value - float(fd)) <= 1e-12 * max(1, abs(float(fd)))


def test_init_is_seeded_bounded_and_keeps_given_values():
    text = mlp_yaml(["x1", "x2", "x3"], [4, 2], ["tanh", "sigmoid"])
    a, b = load(text), load(text)
    assert a.params == b.params and all(v is not None for v in a.params.values())
    other = load(text.replace("  loss:", "  init: {seed: 7}\n  loss:"))
    assert other.params != a.params
    for name, v in a.params.items():
        fan_in = 3 if name.startswith(("w1", "b1")) else 4
        assert abs(v) <= 1 / math.sqrt(fan_in) and (v * 10_000).denominator == 1
    given_ = load(text + "params: {w1_2_3: 0.5}\n")
    assert given_.params["w1_2_3"] == Fraction(1, 2)
    # one draw per param whether given or not: the others keep their values
    assert {k: v for k, v in given_.params.items() if k != "w1_2_3"} == \
        {k: v for k, v in a.params.items() if k != "w1_2_3"}
    assert "w1_2_3" not in given_.meta["init"]["initialized"]
    assert len(given_.meta["init"]["initialized"]) == len(a.params) - 1


def test_deep_sums_are_balanced_and_round_trip():
    from pathgrad.spec.grammar import Name

    expr = add_all([Name(f"v{i}") for i in range(3000)])
    hash(expr)  # a 3000-deep left chain would exhaust the recursion of the dataclass hash
    assert parse(to_text(expr), max_length=10**6) == expr
    assert len(free_names(expr)) == 3000


# --- rnn ----------------------------------------------------------------------------------------


def rnn_loss(vals, steps, loss, act="tanh"):
    """The scalar Elman RNN from its definition, the shared weights at every step."""
    h, total = vals["h0"], 0
    for t in range(1, steps + 1):
        h = ACT[act](vals["w"] * h + vals["u"] * vals[f"x{t}"] + vals["b"])
        if loss == "sum" or t == steps:
            total += (vals[f"y{t}"] - (vals["v"] * h + vals["c"])) ** 2 / 2
    return total


@pytest.mark.parametrize("steps,loss", [(1, "last"), (3, "last"), (4, "sum")])
def test_rnn_paths_group_by_step_and_bptt_matches(steps, loss):
    xs = ", ".join(f"x{t}: {Fraction(t, 3) - 1}" for t in range(1, steps + 1))
    ys = ", ".join(f"y{t}: {Fraction(1, t + 1)}" for t in range(1, steps + 1))
    spec = load(f"rnn: {{steps: {steps}, loss: {loss}}}\ninputs: {{h0: 0.2, {xs}, "
                + (ys if loss == "sum" else f"y{steps}: 0.5") + "}\n"
                "params: {u: 0.8, w: 0.5, b: 0.1, v: 1.2, c: -0.1}\n")
    vals = {n: mp(v) for n, v in spec.values().items()}
    groups = spec.meta["groups"]
    for weight in ("w", "u", "b"):
        ex = explain(spec, weight)
        assert ex.verified
        per_step = Counter(groups[p.nodes[1]] for p in ex.paths)
        # the weight enters once per step; from step s the loss is reached once per loss term
        want = {f"step {s}": (steps - s + 1 if loss == "sum" else 1)
                for s in range(1, steps + 1)}
        assert per_step == want
        fd = central_difference(lambda v: rnn_loss(v, steps, loss), vals, weight)
        assert abs(ex.value - float(fd)) <= 1e-12
    assert spec.meta["group_title"] == "step"


def test_rnn_width_two_names():
    spec = load("rnn: {inputs: [p, q], steps: 2, width: 2, loss: sum}\n")
    assert {"u_1_1", "u_2_2", "w_1_2", "b_2", "v_1", "c"} <= spec.params.keys()
    assert {"h0_1", "h0_2", "p1", "q2", "y1", "y2"} <= spec.inputs.keys()
    assert spec.inputs["h0_1"] == 0
    assert set(free_names(spec.nodes["z2_1"])) == {"w_1_1", "h1_1", "w_1_2", "h1_2", "u_1_1",
                                                   "p2", "u_1_2", "q2", "b_1"}
    assert spec.latex["h1_2"] == "h^{(1)}_{2}"
    ex = explain(spec, "w_1_2")
    assert ex.verified


# --- residual -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_residual_has_2_to_the_n_paths_of_binomial_lengths(n):
    spec = load(f"residual: {{blocks: {n}}}\ninputs: {{x: 0.5, y: 1}}\n")
    counts = spec.graph.path_counts("E")
    assert counts["x"] == 2**n
    assert all(counts[f"w{i}"] == 2 ** (n - i) for i in range(1, n + 1))
    listed = Counter(len(p) - 1 for p in spec.graph.paths("x", "E"))  # brute force
    assert path_length_counts(spec.graph, "x", "E") == dict(listed)
    assert dict(listed) == {n + 2 * k + 1: math.comb(n, k) for k in range(n + 1)}
    assert spec.meta["path_lengths"]["counts"] == dict(listed)


def test_residual_example_verifies(examples):
    spec = load(examples / "residual.yaml")
    ex = explain(spec, "x")
    assert ex.verified and ex.path_count == 8

    def f(v):
        a = v["x"]
        for i in (1, 2, 3):
            a = a + mpmath.tanh(v[f"w{i}"] * a + v[f"b{i}"])
        return (v["y"] - a) ** 2 / 2

    vals = {n: mp(v) for n, v in spec.values().items()}
    assert abs(ex.value - float(central_difference(f, vals, "x"))) < 1e-12


def test_path_length_counts_unreachable_and_trivial():
    spec = load("inputs: {x: 1, z: 2}\nparams: {w: 1}\nnodes: {a: w*x, E: a + x}\n"
                "loss: E\n")
    assert path_length_counts(spec.graph, "x", "E") == {1: 1, 2: 1}
    assert path_length_counts(spec.graph, "z", "E") == {}


# --- batch ---------------------------------------------------------------------------------------

BASE = """\
inputs: {x1: 1.0, y: 0.0}
params: {w11: 0.5, w21: -1.2, w22: 0.8, w31: 1.5, w32: -0.7}
nodes:
  a01: sigmoid(w11*x1)
  a11: sigmoid(w21*a01)
  a12: sigmoid(w22*a01)
  Out: w31*a11 + w32*a12
  E: (Out - y)^2 / 2
"""
EXAMPLES = [{"x1": Fraction(1, 2), "y": Fraction(1)}, {"x1": Fraction(-2), "y": Fraction(0)},
            {"x1": Fraction(3, 4)}]  # the third takes y from `inputs:`


def _batch_yaml(base: str) -> str:
    items = ", ".join("{" + ", ".join(f"{k}: {v}" for k, v in ex.items()) + "}"
                      for ex in EXAMPLES)
    return base + f"batch: {{examples: [{items}]}}\n"


@pytest.mark.parametrize("weight", ["w11", "w31", "w22"])
def test_batch_gradient_is_the_mean_of_per_example_gradients(weight):
    base = load(BASE)
    batch = load(_batch_yaml(BASE))
    one = [explain(base, weight, {**base.inputs, **ex}) for ex in EXAMPLES]
    ex = explain(batch, weight)
    assert ex.verified and all(o.verified for o in one)
    assert ex.value == pytest.approx(sum(o.value for o in one) / 3, rel=1e-13, abs=1e-15)
    assert ex.path_count == sum(o.path_count for o in one)
    groups = Counter(batch.meta["groups"][p.nodes[1]] for p in ex.paths)
    assert groups == {f"example {i}": one[i - 1].path_count for i in (1, 2, 3)}
    assert batch.inputs["y_e3"] == 0 and batch.inputs["x1_e2"] == -2
    assert batch.loss == "E" and "E_e2" in batch.nodes


def test_batch_over_an_mlp_and_an_rnn(examples):
    spec = load(examples / "batch.yaml")
    assert spec.meta["builders"] == ["mlp", "batch"]
    ex = explain(spec, "w2_1_1")
    assert ex.verified and ex.path_count == 3
    base = load(mlp_yaml(["x"], [2, 1], ["tanh", "sigmoid"], "unit", "bce", ["y"],
                         "params: {w1_1_1: 0.6, b1_1: 0.1, w1_2_1: -0.4, b1_2: 0.2, "
                         "w2_1_1: 1.5, w2_1_2: -0.8, b2_1: 0.05}\n"))
    rows = [(0.5, 1), (-1.0, 0), (2.0, 1)]
    one = [explain(base, "w2_1_1", {"x": Fraction(x), "y": Fraction(y)}).value for x, y in rows]
    assert ex.value == pytest.approx(sum(one) / 3, rel=1e-13)
    rnn = load("rnn: {steps: 2}\nbatch: {examples: [{x1: 1, x2: 0, y2: 1}, {x1: -1, x2: 2}]}\n")
    assert rnn.meta["groups"]["z2_e1"] == "example 1, step 2"
    assert rnn.meta["group_title"] == "example, step"
    assert explain(rnn, "w").verified


def test_batch_suffix_avoids_clashes():
    text = BASE.replace("E: (Out - y)^2 / 2", "a01_e1: Out + 0\n  E: (a01_e1 - y)^2 / 2")
    spec = load(text + "batch: {examples: [{x1: 1}, {x1: 2}]}\n")
    assert spec.meta["batch"]["suffix"] == "_ex"
    assert "a01_ex2" in spec.nodes


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,where,words", [
    ("mlp: {inputs: [x1], layers: [2], activation: sigmod}", "mlp.activation", "'sigmoid'"),
    ("mlp: {inputs: [x1], layers: [2], activaton: tanh}", "mlp.activaton", "'activation'"),
    ("mlp: {inputs: [x1], layers: [2, 0]}", "mlp.layers.1", "positive whole number"),
    ("mlp: {inputs: [x1], layers: [2, 1.5]}", "mlp.layers.1", "positive whole number"),
    ("mlp: {inputs: [x1], layers: []}", "mlp.layers", "list of layer widths"),
    ("mlp: {inputs: [x1], layers: [2, 2], targets: [y]}", "mlp.targets", "1 target"),
    ("mlp: {inputs: [x1], layers: [2, 2], activation: [softmax, softmax], loss: cross_entropy}",
     "mlp.activation.0", "output layer"),
    ("mlp: {inputs: [x1], layers: [2, 2], activation: [tanh, softmax]}", "mlp",
     "cross_entropy"),
    ("mlp: {inputs: [x1], layers: [1], activation: softmax, loss: cross_entropy}",
     "mlp.layers", "single output"),
    ("mlp: {inputs: [x1], layers: [2], loss: hinge}", "mlp.loss", "choose one of"),
    ("mlp: {inputs: [x1], layers: [2], bias: units}", "mlp.bias", "'unit'"),
    ("mlp: {inputs: [x1, x1], layers: [2]}", "mlp.inputs.1", "twice"),
    ("mlp: {inputs: [z1_1], layers: [2]}", "mlp.inputs.0", "clashes"),
    ("mlp: {inputs: [x1], layers: [2]}\nparams: {w1_1_2: 1}", "params.w1_1_2", "'w1_1_1'"),
    ("mlp: {inputs: [x1], layers: [2], bias: layer}\nparams: {b1_1: 1}", "params.b1_1",
     "params are w1_1_1, w1_2_1, b1"),
    ("mlp: {inputs: [x1], layers: [2]}\nnodes: {E: x1}", "nodes", "pathgrad expand"),
    ("mlp: {inputs: [x1], layers: [2], init: {seed: -1}}", "mlp.init.seed", "at least 0"),
    ("rnn: {steps: 0}", "rnn.steps", "at least 1"),
    ("rnn: {steps: 2, inputs: [x1]}", "rnn.inputs.0", "digit"),
    ("rnn: {steps: 2, activation: softmax}", "rnn.activation", "choose one of"),
    ("residual: {blocks: 2, input: y}", "residual.target", "both"),
    ("residual: {blok: 2}", "residual.blok", "'blocks'"),
    ("mlp: {inputs: [x], layers: [1]}\nresidual: {blocks: 2}", "residual", "together"),
    ("inputs: {x: 1}\nparams: {w: 1}\nnodes: {E: w*x}\nbatch: {examples: [{w: 2}]}",
     "batch.examples.0.w", "param"),
    ("inputs: {x: 1}\nparams: {w: 1}\nnodes: {E: w*x}\nbatch: {examples: [{xx: 2}]}",
     "batch.examples.0.xx", "'x'"),
    ("inputs: {x: 1, t: 1}\nparams: {w: 1}\nnodes: {E: w*x}\nbatch: {examples: [{t: 2}]}",
     "batch.examples", "depends on none"),
    ("inputs: {x: 1}\nparams: {w: 1}\nnodes: {E: w*x}\nbatch: {examples: []}",
     "batch.examples", "non-empty"),
])
def test_bad_builder_input_is_one_located_line(text, where, words, run, tmp_path):
    with pytest.raises(SpecError) as info:
        load(text + "\n")
    assert info.value.where is not None and info.value.where.key == where
    assert words in info.value.line()
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    result = run("show", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and words in result.stderr
    assert result.stdout == ""


def test_too_big_is_refused_before_building():
    with pytest.raises(LimitError):
        load("mlp: {inputs: [x], layers: [1000, 1000]}\n")


@pytest.mark.parametrize("name", ["mazur", "mlp_softmax", "rnn", "residual", "batch"])
def test_builder_examples_explain_and_verify_for_the_weight_they_name(name, run, examples):
    import re

    path = examples / f"{name}.yaml"
    header = path.read_text().split("\nname:")[0]
    weight = re.search(r"--weight (\w+)", header)[1]
    result = run("explain", str(path), "--weight", weight)
    assert result.exit_code == 0, result.output
    assert "✓ verified" in result.stdout
