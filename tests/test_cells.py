"""The cell builders (lstm, gru, conv1d, attention) and the route analysis, against oracles
written here: the PyTorch cell equations composed by hand in sympy and in mpmath, central
finite differences of those hand-written losses, brute-force path listing, and the round trip
through `pathgrad expand`."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathgrad.analyses.explanation import explain
from pathgrad.analyses.routes import path_routes, with_steps
from pathgrad.errors import LimitError, SpecError
from pathgrad.graph import iter_paths
from pathgrad.numeric.points import point_values
from pathgrad.spec import load
from pathgrad.spec.dump import to_yaml
from pathgrad.spec.source import read

mpmath.mp.dps = 50
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mp(v: Fraction) -> mpmath.mpf:
    return mpmath.mpf(v.numerator) / v.denominator


def sig(z):
    return 1 / (1 + mpmath.exp(-z))


def central_difference(f, vals: dict, name: str) -> mpmath.mpf:
    h = mpmath.mpf(10) ** -20
    up, down = dict(vals), dict(vals)
    up[name] += h
    down[name] -= h
    return (f(up) - f(down)) / (2 * h)


def values_text(names, rng: random.Random) -> str:
    return ", ".join(f"{n}: {Fraction(rng.randint(-9, 9), 10)}" for n in names)


def cell_spec(kind: str, n_in: int, hidden: int, steps: int, loss: str, seed: int):
    """A cell spec with random input and target values (params from the seeded initializer)."""
    rng = random.Random(seed)
    xs = [f"x{t}" if n_in == 1 else f"x{t}_{k}" for t in range(1, steps + 1)
          for k in range(1, n_in + 1)]
    ys = ["y"] if hidden == 1 else [f"y{j}" for j in range(1, hidden + 1)]
    text = (f"{kind}: {{inputs: {n_in}, hidden: {hidden}, steps: {steps}, loss: {loss}, "
            f"init: {{seed: {seed}}}}}\ninputs: {{{values_text(xs + ys, rng)}}}\n")
    return load(text)


# --- the PyTorch equations, written out here ------------------------------------------------


def lstm_loss(v: dict, n_in: int, hidden: int, steps: int, loss: str, exp=mpmath.exp,
              tanh=mpmath.tanh):
    """PyTorch's LSTMCell with one bias per gate, from the contract's names."""
    def sigma(z):
        return 1 / (1 + exp(-z))

    h = [v[f"h0_{j}"] for j in range(1, hidden + 1)]
    c = [v[f"c0_{j}"] for j in range(1, hidden + 1)]
    ys = [v["y"]] if hidden == 1 else [v[f"y{j}"] for j in range(1, hidden + 1)]
    total = 0
    for t in range(1, steps + 1):
        x = [v[f"x{t}"]] if n_in == 1 else [v[f"x{t}_{k}"] for k in range(1, n_in + 1)]

        def pre(gate, j, x=x, h=h):
            return (sum(v[f"W{gate}_{j}_{k}"] * x[k - 1] for k in range(1, n_in + 1))
                    + sum(v[f"U{gate}_{j}_{m}"] * h[m - 1] for m in range(1, hidden + 1))
                    + v[f"b{gate}_{j}"])

        units = range(1, hidden + 1)
        i = [sigma(pre("i", j)) for j in units]
        f = [sigma(pre("f", j)) for j in units]
        g = [tanh(pre("g", j)) for j in units]
        o = [sigma(pre("o", j)) for j in units]
        c = [f[j] * c[j] + i[j] * g[j] for j in range(hidden)]
        h = [o[j] * tanh(c[j]) for j in range(hidden)]
        if loss == "sum" or t == steps:
            total += sum((ys[j] - h[j]) ** 2 for j in range(hidden)) / 2
    return total


def gru_loss(v: dict, n_in: int, hidden: int, steps: int, loss: str):
    """PyTorch's GRUCell: the hidden bias of the candidate inside the reset gate's product."""
    h = [v[f"h0_{j}"] for j in range(1, hidden + 1)]
    ys = [v["y"]] if hidden == 1 else [v[f"y{j}"] for j in range(1, hidden + 1)]
    total = 0
    for t in range(1, steps + 1):
        x = [v[f"x{t}"]] if n_in == 1 else [v[f"x{t}_{k}"] for k in range(1, n_in + 1)]

        def wx(gate, j, x=x):
            return sum(v[f"W{gate}_{j}_{k}"] * x[k - 1] for k in range(1, n_in + 1))

        def uh(gate, j, h=h):
            return sum(v[f"U{gate}_{j}_{m}"] * h[m - 1] for m in range(1, hidden + 1))

        units = range(1, hidden + 1)
        r = [sig(wx("r", j) + uh("r", j) + v[f"br_{j}"]) for j in units]
        z = [sig(wx("z", j) + uh("z", j) + v[f"bz_{j}"]) for j in units]
        n = [mpmath.tanh(wx("n", j) + v[f"bn_{j}"] + r[j - 1] * (uh("n", j) + v[f"bhn_{j}"]))
             for j in units]
        h = [(1 - z[j]) * n[j] + z[j] * h[j] for j in range(hidden)]
        if loss == "sum" or t == steps:
            total += sum((ys[j] - h[j]) ** 2 for j in range(hidden)) / 2
    return total


def gradient(spec, name):
    """∂E/∂name from the route DP (itself checked against listing below)."""
    d = path_routes(spec, name)
    return d.gradient


# --- lstm ---------------------------------------------------------------------------------------


def test_lstm_contract_names_exactly():
    spec = load("lstm:\n  inputs: 2\n  hidden: 2\n  steps: 3\n  loss: last\n"
                "  targets: [y1, y2]\n  init: {seed: 0}\n")
    for gate in "ifgo":
        for j, k in itertools.product((1, 2), (1, 2)):
            assert f"W{gate}_{j}_{k}" in spec.params and f"U{gate}_{j}_{k}" in spec.params
        assert {f"b{gate}_1", f"b{gate}_2"} <= spec.params.keys()
    assert len(spec.params) == 4 * (2 * 2 + 2 * 2 + 2)
    assert {"Wf_1_2", "Ui_2_1", "bo_1"} <= spec.params.keys()
    want_inputs = {"h0_1", "h0_2", "c0_1", "c0_2", "y1", "y2"} | {
        f"x{t}_{k}" for t in (1, 2, 3) for k in (1, 2)}
    assert set(spec.inputs) == want_inputs
    assert spec.inputs["h0_1"] == 0 and spec.inputs["c0_2"] == 0
    want_nodes = {f"{s}{t}_{j}" for s in "ifgoch" for t in (1, 2, 3) for j in (1, 2)} | {"E"}
    assert set(spec.nodes) == want_nodes and spec.loss == "E"
    one = load("lstm: {inputs: 1, steps: 2}")
    assert {"x1", "x2", "h0_1", "c0_1", "y"} == one.inputs.keys()
    assert {"Wi_1_1", "Ui_1_1", "bi_1"} <= one.params.keys()


@pytest.mark.parametrize("n_in,hidden,steps,loss", [(2, 2, 2, "last"), (1, 2, 2, "sum"),
                                                     (2, 1, 3, "last")])
def test_lstm_nodes_are_the_pytorch_equations_in_sympy(n_in, hidden, steps, loss):
    """Every node of the spec against the equations written here in sympy, and ∂E/∂w of the
    whole hand-written composition (sympy.diff) against pathgrad's path sum."""
    from pathgrad.calculus import Network

    spec = cell_spec("lstm", n_in, hidden, steps, loss, seed=3)
    net = Network(spec)
    s = {n: sp.Symbol(n, real=True) for n in spec.names}
    def sigma(z):
        return 1 / (1 + sp.exp(-z))

    rng = random.Random(1)
    point = {s[n]: sp.Float(sp.Rational(rng.randint(-20, 20), 17), 40) for n in spec.names}

    def same(a, b):
        a = a.rewrite(sp.exp)  # pathgrad's sigmoid written as 1/(1 + e^−z)
        return abs(sp.N((a - b).xreplace(point), 30)) < 1e-25

    def x(t, k):
        return s[f"x{t}"] if n_in == 1 else s[f"x{t}_{k}"]

    for t in range(1, steps + 1):
        for j in range(1, hidden + 1):
            def pre(gate, t=t, j=j):
                return (sum(s[f"W{gate}_{j}_{k}"] * x(t, k) for k in range(1, n_in + 1))
                        + sum(s[f"U{gate}_{j}_{m}"] * s[f"h{t - 1}_{m}"]
                              for m in range(1, hidden + 1)) + s[f"b{gate}_{j}"])
            hand = {"i": sigma(pre("i")), "f": sigma(pre("f")), "g": sp.tanh(pre("g")),
                    "o": sigma(pre("o")),
                    "c": s[f"f{t}_{j}"] * s[f"c{t - 1}_{j}"] + s[f"i{t}_{j}"] * s[f"g{t}_{j}"],
                    "h": s[f"o{t}_{j}"] * sp.tanh(s[f"c{t}_{j}"])}
            for kind, expr in hand.items():
                assert same(net.exprs[f"{kind}{t}_{j}"], expr), f"{kind}{t}_{j}"
    # the whole loss, composed by hand in the leaves, differentiated by sympy
    # 40-digit Floats: exact rationals inside exp() make sympy's substitution crawl
    vals = {s[n]: sp.Float(sp.Rational(v.numerator, v.denominator), 40)
            for n, v in spec.values().items()}
    E = lstm_loss(s, n_in, hidden, steps, loss, exp=sp.exp, tanh=sp.tanh)  # noqa: N806
    for w in ("Wf_1_1", f"Uo_{hidden}_1", "bi_1", "c0_1", x(1, 1).name):
        direct = float(sp.N(sp.diff(E, s[w]).xreplace(vals), 30))
        assert abs(direct - gradient(spec, w)) <= 1e-12 * max(1, abs(direct)), w
    ex = explain(spec, "bo_1")
    assert ex.verified
    direct = float(sp.N(sp.diff(E, s["bo_1"]).xreplace(vals), 30))
    assert abs(ex.value - direct) <= 1e-12


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.sampled_from(["last", "sum"]),
       st.integers(0, 10_000))
def test_lstm_gradient_matches_finite_differences(n_in, hidden, steps, loss, seed):
    spec = cell_spec("lstm", n_in, hidden, steps, loss, seed)
    vals = {n: mp(v) for n, v in spec.values().items()}
    rng = random.Random(seed)
    names = [*spec.params, *(n for n in spec.inputs if n.startswith(("x", "h0", "c0")))]
    for w in rng.sample(names, 4):
        fd = central_difference(lambda v: lstm_loss(v, n_in, hidden, steps, loss), vals, w)
        assert abs(gradient(spec, w) - float(fd)) <= 1e-10 * max(1.0, abs(float(fd))), w


def test_lstm_example_explains_and_verifies(examples):
    spec = load(examples / "lstm.yaml")
    ex = explain(spec, "bi_1")
    assert ex.verified
    groups = Counter(spec.meta["groups"][p.nodes[1]] for p in ex.paths)
    assert set(groups) == {"step 1", "step 2", "step 3"}
    vals = {n: mp(v) for n, v in spec.values().items()}
    fd = central_difference(lambda v: lstm_loss(v, 1, 1, 3, "last"), vals, "bi_1")
    assert abs(ex.value - float(fd)) <= 1e-12


# --- gru ------------------------------------------------------------------------------------------


def test_gru_names_and_where_the_hidden_bias_sits():
    spec = load("gru: {inputs: 2, hidden: 2, steps: 2}")
    assert {"Wr_1_2", "Uz_2_1", "Wn_2_2", "Un_1_1", "br_1", "bz_2", "bn_1", "bhn_2"} \
        <= spec.params.keys()
    assert not any(n.startswith(("bhr", "bhz", "bir")) for n in spec.params)
    assert {"h0_1", "h0_2", "x1_1", "x1_2", "x2_1", "x2_2", "y1", "y2"} == spec.inputs.keys()
    assert set(spec.nodes) == {f"{s}{t}_{j}" for s in "rznh" for t in (1, 2)
                               for j in (1, 2)} | {"E"}
    # bhn is multiplied by the reset gate; bn is not
    text = spec.text("n1_1")
    assert re.search(r"r1_1\*\([^)]*bhn_1\)", text), text
    assert "bn_1" in text.split("r1_1*")[0]
    assert spec.text("h2_1") == "(1 - z2_1)*n2_1 + z2_1*h1_1"


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.sampled_from(["last", "sum"]),
       st.integers(0, 10_000))
def test_gru_gradient_matches_finite_differences(n_in, hidden, steps, loss, seed):
    spec = cell_spec("gru", n_in, hidden, steps, loss, seed)
    vals = {n: mp(v) for n, v in spec.values().items()}
    rng = random.Random(seed)
    names = [*spec.params, *(n for n in spec.inputs if n.startswith(("x", "h0")))]
    for w in rng.sample(names, 4):
        fd = central_difference(lambda v: gru_loss(v, n_in, hidden, steps, loss), vals, w)
        assert abs(gradient(spec, w) - float(fd)) <= 1e-10 * max(1.0, abs(float(fd))), w


def test_gru_example_explains_and_verifies(examples):
    spec = load(examples / "gru.yaml")
    ex = explain(spec, "bhn_1")
    assert ex.verified
    vals = {n: mp(v) for n, v in spec.values().items()}
    cfg = spec.meta["gru"]
    fd = central_difference(
        lambda v: gru_loss(v, cfg["inputs"], cfg["hidden"], cfg["steps"], cfg["loss"]),
        vals, "bhn_1")
    assert abs(ex.value - float(fd)) <= 1e-12


# --- conv1d -------------------------------------------------------------------------------------


def conv_loss(v, n, k, bias, act, readout):
    f = {"relu": lambda z: max(z, 0), "tanh": mpmath.tanh, "sigmoid": sig,
         "linear": lambda z: z}[act]
    m = n - k + 1
    a = [f(sum(v[f"k{j}"] * v[f"x{i + j - 1}"] for j in range(1, k + 1))
           + (v["b"] if bias else 0)) for i in range(1, m + 1)]
    if readout == "linear":
        out = sum(v[f"v{i}"] * a[i - 1] for i in range(1, m + 1)) + v["c"]
    else:
        out = sum(a) / (m if readout == "mean" else 1)
    return (v["y"] - out) ** 2 / 2


@pytest.mark.parametrize("n,k,bias,act,readout", [(5, 3, True, "tanh", "linear"),
                                                  (4, 2, False, "sigmoid", "mean"),
                                                  (3, 3, True, "linear", "sum")])
def test_conv1d_against_the_hand_written_convolution(n, k, bias, act, readout):
    rng = random.Random(n * k)
    xs = [f"x{p}" for p in range(1, n + 1)]
    spec = load(f"conv1d: {{length: {n}, kernel: {k}, bias: {str(bias).lower()}, "
                f"activation: {act}, readout: {readout}}}\n"
                f"inputs: {{{values_text([*xs, 'y'], rng)}}}\n")
    m = n - k + 1
    assert [n for n in spec.params if n.startswith("k")] == [f"k{j}" for j in range(1, k + 1)]
    assert ("b" in spec.params) == bias and ("c" in spec.params) == (readout == "linear")
    vals = {name: mp(v) for name, v in spec.values().items()}
    for w in ("k1", f"k{k}", "x1", f"x{n}"):
        ex = explain(spec, w)
        assert ex.verified
        fd = central_difference(lambda v: conv_loss(v, n, k, bias, act, readout), vals, w)
        assert abs(ex.value - float(fd)) <= 1e-12
        if w.startswith("k"):  # the shared kernel: one group per position, a path each
            groups = Counter(spec.meta["groups"][p.nodes[1]] for p in ex.paths)
            assert groups == {f"position {i}": 1 for i in range(1, m + 1)}
    # x{p} touches the positions i with i ≤ p ≤ i + K − 1
    counts = spec.graph.path_counts("E")
    for p in range(1, n + 1):
        assert counts[f"x{p}"] == sum(1 for i in range(1, m + 1) if i <= p <= i + k - 1)


# --- attention ----------------------------------------------------------------------------------


def attention_loss(v, n, dim, head, scale):
    def x(i, k):
        return v[f"x{i}"] if dim == 1 else v[f"x{i}_{k}"]

    def proj(w, i, c):
        return sum(v[f"W{w}_{c}_{k}"] * x(i, k) for k in range(1, dim + 1))

    q = {(i, c): proj("q", i, c) for i in range(1, n + 1) for c in range(1, head + 1)}
    kk = {(i, c): proj("k", i, c) for i in range(1, n + 1) for c in range(1, head + 1)}
    vv = {(i, c): proj("v", i, c) for i in range(1, n + 1) for c in range(1, head + 1)}
    total = 0
    for i in range(1, n + 1):
        scores = [sum(q[(i, c)] * kk[(j, c)] for c in range(1, head + 1))
                  / (mpmath.sqrt(head) if scale else 1) for j in range(1, n + 1)]
        top = sum(mpmath.exp(s) for s in scores)
        alpha = [mpmath.exp(s) / top for s in scores]
        for c in range(1, head + 1):
            o = sum(alpha[j - 1] * vv[(j, c)] for j in range(1, n + 1))
            total += (v[f"y{i}_{c}"] - o) ** 2 / 2
    return total


@pytest.mark.parametrize("n,dim,head,scale", [(3, 2, 2, True), (2, 1, 3, True),
                                              (2, 2, 4, False)])
def test_attention_against_the_hand_written_head(n, dim, head, scale):
    rng = random.Random(n + dim + head)
    xs = [f"x{i}" if dim == 1 else f"x{i}_{k}" for i in range(1, n + 1)
          for k in range(1, dim + 1)]
    ys = [f"y{i}_{c}" for i in range(1, n + 1) for c in range(1, head + 1)]
    spec = load(f"attention: {{tokens: {n}, dim: {dim}, head: {head}, "
                f"scale: {str(scale).lower()}}}\ninputs: {{{values_text(xs + ys, rng)}}}\n")
    vals = {name: mp(v) for name, v in spec.values().items()}
    for w in ("Wq_1_1", f"Wk_{head}_{dim}", "Wv_1_1", xs[0]):
        ex = explain(spec, w)
        assert ex.verified
        fd = central_difference(lambda v: attention_loss(v, n, dim, head, scale), vals, w)
        assert abs(ex.value - float(fd)) <= 1e-12, w
    # softmax couples: the score s1_2 reaches every weight of query 1 (directly or through Z1)
    kids = spec.graph.successors()
    assert set(kids["s1_2"]) == {"Z1", "a1_2"} and len(kids["Z1"]) == n
    groups = Counter(spec.meta["groups"][p[1]] for p in iter_paths(spec.graph, "Wq_1_1", "E"))
    assert set(groups) == {f"token {i}" for i in range(1, n + 1)}


# --- routes and counts ----------------------------------------------------------------------------

_STEP = re.compile(r"([a-z]+)(\d+)_(\d+)$")


def route_of_edge(kind: str, u: str, v: str) -> str | None:
    """The route of an edge, from the names alone (an oracle independent of meta["routes"])."""
    mu, mv = _STEP.match(u), _STEP.match(v)
    if not mu or not mv or int(mv.group(2)) != int(mu.group(2)) + 1:
        return None
    a, b = mu.group(1), mv.group(1)
    if kind == "lstm":
        return "c" if (a, b) == ("c", "c") else "h" if a == "h" and b in "ifgo" else None
    if kind == "gru":
        return "direct" if (a, b) == ("h", "h") else "gates" if a == "h" else None
    return "h" if a == "h" else None


@pytest.mark.parametrize("kind,n_in,hidden,steps", [("lstm", 1, 1, 3), ("lstm", 2, 2, 3),
                                                    ("gru", 1, 2, 3), ("lstm", 1, 1, 5)])
def test_route_counts_and_values_against_brute_force_listing(kind, n_in, hidden, steps):
    spec = cell_spec(kind, n_in, hidden, steps, "last", seed=7)
    order = list(spec.meta["routes"]["labels"])
    pv = point_values(spec, spec.values())
    with mpmath.workdps(30):
        for source in ("x1" if n_in == 1 else "x1_1", "Wf_1_1" if kind == "lstm" else "Wz_1_1",
                       "h0_1"):
            listed_count: Counter = Counter()
            listed_value: dict = {}
            for path in iter_paths(spec.graph, source, "E"):
                used = {route_of_edge(kind, u, v) for u, v in zip(path, path[1:])} - {None}
                key = "+".join(r for r in order if r in used) or "none"
                listed_count[(key, len(path) - 1)] += 1
                value = mpmath.fprod(pv.partials[(u, v)] for u, v in zip(path, path[1:]))
                listed_value[key] = listed_value.get(key, 0) + value
            d = path_routes(spec, source)
            got = Counter({(c.route, b.length): b.paths for c in d.classes for b in c.bins})
            assert got == listed_count
            assert d.total == spec.graph.path_counts("E")[source] == sum(listed_count.values())
            for c in d.classes:
                assert c.paths == sum(b.paths for b in c.bins)
                assert abs(c.value - float(listed_value[c.route])) <= 1e-12
            # the routes add up to the gradient, and the shares to 1
            assert abs(sum(c.value for c in d.classes) - d.gradient) <= 1e-15
            assert abs(sum(c.share for c in d.classes) - 1) <= 1e-12


def test_rnn_routes_are_all_hidden_state():
    spec = load("rnn: {steps: 4}\ninputs: {x1: 1, x2: 0.5, x3: -1, x4: 0.2, y4: 0.1}")
    d = path_routes(spec, "x1")
    assert [(c.route, c.paths) for c in d.classes] == [("h", 1)]
    d = path_routes(spec, "w")
    assert {c.route: c.paths for c in d.classes} == {"h": 3, "none": 1}
    assert path_routes(load("mlp: {inputs: [x], layers: [1]}"), "x") is None


def test_lstm_cell_state_route_carries_the_gradient_as_steps_grow(examples):
    """The lesson: from x1, the h-only paths fade with T; the routes through c keep it."""
    doc = read(str(examples / "lstm.yaml"))
    long = "\n".join(line for line in doc.text.splitlines() if not line.startswith("inputs"))
    xs = ", ".join(f"x{t}: {Fraction((-1) ** t, t + 1)}" for t in range(1, 13))
    text = long.replace("steps: 3", "steps: 12") + f"\ninputs: {{{xs}, y: 0.3}}\n"
    shares = {}
    for t in (2, 6, 12):
        d = path_routes(with_steps(read(text), t), "x1")
        total = sum(abs(c.value) for c in d.classes)
        shares[t] = {c.route: abs(c.value) / total for c in d.classes}
    assert shares[12]["h"] < shares[6]["h"] < shares[2]["h"]
    assert shares[12]["h"] < 1e-3
    assert shares[12]["c"] + shares[12].get("c+h", 0) > 0.999


# --- round trip, examples, errors -----------------------------------------------------------------


def same_network(a, b) -> None:
    assert list(a.inputs.items()) == list(b.inputs.items())
    assert list(a.params.items()) == list(b.params.items())
    assert list(a.nodes) == list(b.nodes)
    assert all(a.nodes[n] == b.nodes[n] for n in a.nodes)
    assert (a.loss, a.latex) == (b.loss, b.latex)


@pytest.mark.parametrize("text", [
    "lstm: {inputs: 2, hidden: 2, steps: 3, loss: sum, targets: [p, q]}",
    "gru: {inputs: 1, hidden: 2, steps: 2}",
    "conv1d: {length: 6, kernel: 2, readout: mean, activation: softplus}",
    "attention: {tokens: 3, dim: 2, head: 3}",
])
def test_round_trip_through_expand(text):
    spec = load(text)
    back = load(to_yaml(spec))
    assert back.builder is None
    same_network(spec, back)


@pytest.mark.parametrize("name,weight", [("lstm", "bi_1"), ("gru", "bhn_1"),
                                         ("conv1d", "k1"), ("attention", "Wq_1_1")])
def test_examples_explain_and_verify(run, examples, name, weight):
    text = (examples / f"{name}.yaml").read_text()
    assert f"--weight {weight}" in text  # the example says what to try
    result = run("explain", str(examples / f"{name}.yaml"), "--weight", weight)
    assert result.exit_code == 0, result.output
    assert "✓ verified" in result.output


@pytest.mark.parametrize("text,where,words", [
    ("lstm: {hidden: 2}", "lstm", "`steps:` is missing"),
    ("lstm: {steps: 2, hidden: 2, targets: [y]}", "lstm.targets", "1 target but"),
    ("lstm: {steps: 2, targets: [x1]}", "lstm.targets.0", "also the name"),
    ("lstm: {steps: 2, targets: [c0_1]}", "lstm.targets.0", "also the name"),
    ("lstm: {steps: 2, targets: [h1_1]}", "lstm.targets", "clashes"),
    ("lstm: {steps: 2, forget: 1}", "lstm.forget", "unknown key"),
    ("gru: {steps: 0}", "gru.steps", "at least 1"),
    ("conv1d: {length: 2, kernel: 3}", "conv1d.kernel", "does not fit"),
    ("conv1d: {length: 3, kernel: 2, input: k}", "conv1d.input", "clashes"),
    ("conv1d: {length: 3, kernel: 2, readout: max}", "conv1d.readout", "unknown readout"),
    ("attention: {tokens: 2, input: q}", "attention.input", "clashes"),
    ("attention: {tokens: 2, target: x}", "attention.target", "both"),
])
def test_bad_blocks_say_where(text, where, words):
    with pytest.raises(SpecError) as info:
        load(text)
    assert words in str(info.value) and where in str(info.value)


@pytest.mark.parametrize("text", ["lstm: {inputs: 2, hidden: 3, steps: 4}",
                                  "gru: {inputs: 3, hidden: 2, steps: 5}",
                                  "conv1d: {length: 9, kernel: 4}",
                                  "conv1d: {length: 9, kernel: 4, readout: sum, bias: false}",
                                  "attention: {tokens: 4, dim: 3, head: 2}"])
def test_sizes_are_checked_before_building_with_the_real_count(monkeypatch, text):
    names = len(load(text).names)
    monkeypatch.setenv("PATHGRAD_MAX_NAMES", str(names))
    load(text)  # exactly at the limit: fine
    monkeypatch.setenv("PATHGRAD_MAX_NAMES", str(names - 1))
    with pytest.raises(LimitError, match=f"would have {names:,} names"):
        load(text)


# --- what is printed: the route table, the JSON, the plot -----------------------------------------


def listed_routes(spec, source: str) -> tuple[Counter, dict]:
    """Paths per route and their summed values, by listing every path (names-only oracle)."""
    kind = spec.builder
    order = list(spec.meta["routes"]["labels"]) if "routes" in spec.meta else ["h"]
    pv = point_values(spec, spec.values())
    counts: Counter = Counter()
    values: dict = {}
    with mpmath.workdps(30):
        for path in iter_paths(spec.graph, source, spec.loss):
            used = {route_of_edge(kind, u, v) for u, v in zip(path, path[1:])} - {None}
            key = "+".join(r for r in order if r in used) or "none"
            counts[key] += 1
            values[key] = values.get(key, 0) + mpmath.fprod(
                pv.partials[(u, v)] for u, v in zip(path, path[1:]))
    return counts, {k: float(v) for k, v in values.items()}


def test_route_table_printed_at_80_columns_parses_back(run, examples):
    spec = load(examples / "lstm.yaml")
    counts, values = listed_routes(spec, "x1")
    total = sum(values.values())
    result = run("explain", str(examples / "lstm.yaml"), "--weight", "x1", "--top", "3",
                 env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.output[result.output.index("by route"):]
    assert max(len(line) for line in text.splitlines()) <= 80
    titles = {"c": "c only", "h": "h only", "c+h": "mixed (c and h)"}
    for route, title in titles.items():
        row = next(line for line in text.splitlines() if line.startswith(title))
        cells = row[len(title):].split()
        share = float(cells[-1].rstrip("%").replace("−", "-").replace("+", "")) / 100
        assert int(cells[-3].replace(",", "")) == counts[route]
        assert abs(share - values[route] / total) < 1e-3
    assert "the routes add up to it" in text


def test_show_json_has_the_routes_of_the_first_input(run, examples):
    import json

    result = run("show", str(examples / "gru.yaml"), "--format", "json")
    data = json.loads(result.output)["path_routes"]
    spec = load(examples / "gru.yaml")
    counts, values = listed_routes(spec, "x1")
    assert data["source"] == "x1" and data["total"] == sum(counts.values())
    assert {r["route"]: r["paths"] for r in data["routes"]} == dict(counts)
    for r in data["routes"]:
        assert abs(r["value"] - values[r["route"]]) <= 1e-12
        assert sum(b["paths"] for b in r["lengths"]) == r["paths"]
    assert "path_routes" not in json.loads(run("show", str(examples / "conv1d.yaml"),
                                               "--format", "json").output)


def test_length_plot_shares_are_the_listed_sums(examples):
    from pathgrad.analyses.lengths import path_lengths
    from pathgrad.render.lengthplot import by_length, by_route

    lstm = load(examples / "lstm.yaml")
    pv = point_values(lstm, lstm.values())
    per_length: dict = {}
    with mpmath.workdps(30):
        for path in iter_paths(lstm.graph, "x1", "E"):
            per_length[len(path) - 1] = per_length.get(len(path) - 1, 0) + mpmath.fprod(
                pv.partials[(u, v)] for u, v in zip(path, path[1:]))
    absolute = {k: abs(float(v)) for k, v in per_length.items()}
    plot = by_length([("lstm", path_lengths(lstm, "x1"))])
    (line,) = plot.lines
    assert dict(zip(line.xs, line.ys)) == pytest.approx(
        {float(k): v / sum(absolute.values()) for k, v in absolute.items()}, rel=1e-9)
    counts, values = listed_routes(lstm, "x1")
    plot = by_route([("lstm", path_routes(lstm, "x1"))])
    ys = plot.lines[0].ys  # carry only (c), gates only (h), mixed, no step crossed
    norm = sum(abs(v) for v in values.values())
    assert ys == pytest.approx((abs(values["c"]) / norm, abs(values["h"]) / norm,
                                abs(values["c+h"]) / norm, 0.0), rel=1e-9)


def test_lengths_command_writes_svg_and_png(run, examples, tmp_path):
    import xml.etree.ElementTree as ET

    svg = tmp_path / "plot.svg"
    specs = [str(examples / f) for f in ("rnn.yaml", "lstm.yaml", "residual.yaml")]
    result = run("lengths", *specs, "-o", str(svg))
    assert result.exit_code == 0, result.output
    root = ET.fromstring(svg.read_text())
    assert root.tag.endswith("svg")
    assert "Date" not in svg.read_text()
    png = tmp_path / "plot.png"
    result = run("lengths", *specs[:2], "--by", "route", "-o", str(png))
    assert result.exit_code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    steps = tmp_path / "steps.png"
    result = run("lengths", specs[1], "--steps", "1-3", "--measure", "magnitude",
                 "-o", str(steps))
    assert result.exit_code == 0 and steps.exists()
    # one line each, status 2, nothing written
    for args, words in ((["-o", str(tmp_path / "p.pdf")], ".svg or .png"),
                        (["--weight", "a", "--weight", "b", "-o", str(svg)], "--weight"),
                        (["--steps", "3-1", "-o", str(svg)], "--steps"),
                        (["--by", "route", "-o", str(tmp_path / "r.svg")], "no steps")):
        bad = run("lengths", *specs, *args)
        assert bad.exit_code == 2 and words in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.svg").exists()
    bad = run("lengths", str(examples / "conv1d.yaml"), "--steps", "2", "-o", str(svg))
    assert bad.exit_code == 2 and "steps" in bad.stderr


def test_with_steps_keeps_the_values():
    text = ("rnn: {steps: 4}\ninputs: {x1: 1, x2: 0.5, x3: -1, x4: 0.2, y4: 0.1}\n"
            "params: {w: 0.5, u: 0.8, b: 0.1, v: 1.2, c: -0.1}\n")
    short = with_steps(read(text), 2)
    assert short.meta["rnn"]["steps"] == 2
    assert short.inputs["x2"] == Fraction(1, 2) and short.inputs["y2"] == Fraction(1, 10)
    assert short.params["w"] == Fraction(1, 2) and "x3" not in short.inputs


def test_every_builder_block_in_the_readme_loads():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    found = {}
    for block in blocks:
        key = block.split(":", 1)[0].strip()
        if key in ("lstm", "gru", "conv1d", "attention"):
            found[key] = load(block)
    assert set(found) == {"lstm", "gru", "conv1d", "attention"}
    lstm = found["lstm"]  # the contract block, as written
    assert {"Wf_1_2", "Ui_2_1", "bo_1", "x3_2", "h0_2", "c0_1", "i3_2", "c3_1", "h3_2"} <= set(
        lstm.names)
