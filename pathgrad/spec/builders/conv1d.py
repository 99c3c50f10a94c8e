"""The `conv1d` builder: one channel, one kernel slid along the input with stride 1, an
activation, a readout and the squared error.

```yaml
conv1d:
  input: x             # the input's name; its N positions are x1 … xN (default x)
  length: 5            # required: N
  kernel: 3            # required: K, the kernel size (K ≤ N)
  bias: true           # one bias b shared by every position (default true)
  activation: relu     # a{i} = act(z{i}): sigmoid, tanh, relu (default), softplus, linear
  readout: linear      # linear (default): out = Σ_i v{i}·a{i} + c | sum: out = Σ_i a{i} |
                       # mean: out = (Σ_i a{i})/M
  target: y            # E = ½·(y − out)² (default y)
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

Generated names (i = 1…M, M = N − K + 1 output positions; j = 1…K):

- params `k{j}` the kernel (k_{j}), `b` the bias; for `readout: linear` `v{i}` and `c`
- nodes `z{i} = k1·x{i} + k2·x{i+1} + … + kK·x{i+K−1} + b` (cross-correlation, as PyTorch's
  Conv1d computes it), `a{i} = act(z{i})` (with `linear`, a{i} = z{i}), `out`, and the loss `E`.

Every kernel weight is used at every position, so ∂E/∂k{j} is a sum over the M positions (as
BPTT sums over steps): `meta["groups"]` maps z{i} and a{i} to "position i", and a path's group
is the position where the kernel weight enters. An input x{p} reaches the outputs of up to K
positions. Initial values: uniform(−1/√K, 1/√K) for the kernel and b, uniform(−1/√M, 1/√M)
for v{i} and c (PyTorch's nn.Conv1d and nn.Linear defaults), 4 decimals.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ...errors import SpecError
from .. import grammar as g
from ..source import Document
from ._common import ACTIVATIONS, Block, Built, Initializer, add_all, call, check_size, mul

__all__ = ["build", "KEYS", "READOUTS", "MAX_LENGTH"]

KEYS = ("input", "length", "kernel", "bias", "activation", "readout", "target", "init")
READOUTS = ("linear", "sum", "mean")
MAX_LENGTH = 100_000


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `conv1d:` block of `doc` and build the network."""
    b = Block(doc, "conv1d", "{length: 5, kernel: 3}")
    b.check_keys(KEYS, required=("length", "kernel"))
    x = b.name("input", "x")
    n = b.integer("length", most=MAX_LENGTH)
    k = b.integer("kernel", most=MAX_LENGTH)
    bias = b.flag("bias", True)
    act = b.choice("activation", list(ACTIVATIONS), "relu", what="activation")
    readout = b.choice("readout", READOUTS, "linear", what="readout")
    target = b.name("target", "y")
    seed = b.seed()
    if k > n:
        raise SpecError(f"a kernel of {k} does not fit an input of length {n}",
                        b.where("kernel"), f"use a kernel of at most {n}")
    if x[-1].isdigit():
        raise SpecError(f"the input's positions are named {x}1, {x}2, …, so '{x}' must not end "
                        "in a digit", b.where("input"), f"write '{x.rstrip('0123456789') or 'x'}'")
    if target == x or (target.startswith(x) and target[len(x):].isdigit()):
        raise SpecError(f"the target '{target}' is also the name of the input or one of its "
                        "positions", b.where("target"), "choose another name")
    m = n - k + 1
    linear = readout == "linear"
    check_size(n + 1 + k + bias + (m + 1) * linear + 2 * m + 2, b.where("length"), "this conv1d",
               nodes=2 * m + 2,  # z: k·x over the kernel (+ b); a; out; E
               edges=m * (2 * k + bias) + m + (2 * m + 1 if linear else m) + 2)

    init = Initializer(seed)
    inputs: dict[str, Fraction | None] = {f"{x}{p}": None for p in range(1, n + 1)}
    inputs[target] = None
    latex = {f"{x}{p}": "%s_{%d}" % (x if len(x) == 1 else r"\mathrm{%s}" % x, p)
             for p in range(1, n + 1)}
    params: dict[str, Fraction | None] = {}
    for j in range(1, k + 1):
        params[f"k{j}"] = None
        init.add(f"k{j}", k)
        latex[f"k{j}"] = "k_{%d}" % j
    if bias:
        params["b"] = None
        init.add("b", k)
    if linear:
        for i in range(1, m + 1):
            params[f"v{i}"] = None
            init.add(f"v{i}", m)
            latex[f"v{i}"] = "v_{%d}" % i
        params["c"] = None
        init.add("c", m)
    nodes: dict[str, g.Expr] = {}
    groups: dict[str, str] = {}
    func = ACTIVATIONS[act]
    for i in range(1, m + 1):
        terms: list[g.Expr] = [mul(g.Name(f"k{j}"), g.Name(f"{x}{i + j - 1}"))
                               for j in range(1, k + 1)]
        if bias:
            terms.append(g.Name("b"))
        nodes[f"z{i}"] = add_all(terms)
        nodes[f"a{i}"] = call(func, g.Name(f"z{i}")) if func else g.Name(f"z{i}")
        groups[f"z{i}"] = groups[f"a{i}"] = f"position {i}"
        latex[f"z{i}"], latex[f"a{i}"] = "z_{%d}" % i, "a_{%d}" % i
    if linear:
        out: g.Expr = add_all([*(mul(g.Name(f"v{i}"), g.Name(f"a{i}")) for i in range(1, m + 1)),
                               g.Name("c")])
    else:
        out = add_all([g.Name(f"a{i}") for i in range(1, m + 1)])
        if readout == "mean" and m > 1:
            out = g.BinOp("/", out, g.Num(Fraction(m)))
    nodes["out"] = out
    latex["out"] = r"\mathrm{out}"
    two = g.Num(Fraction(2))
    nodes["E"] = g.BinOp("/", g.BinOp("^", g.BinOp("-", g.Name(target), g.Name("out")), two), two)

    read_text = {"linear": "out = Σ_i v{i}·a{i} + c", "sum": "out = Σ_i a{i}",
                 "mean": f"out = (Σ_i a{{i}})/{m}"}[readout]
    meta: dict[str, Any] = {
        "summary": [f"conv1d: input {x}1 … {x}{n}, kernel k1 … k{k} shared by {m} position"
                    f"{'s' * (m != 1)} (stride 1{', one bias b' if bias else ''}), "
                    f"a{{i}} = {act}(z{{i}}), {read_text}, E = ½·({target} − out)²"],
        "conv1d": {"input": x, "length": n, "kernel": k, "bias": bias, "activation": act,
                   "readout": readout, "target": target},
        "groups": groups,
        "group_title": "position",
        "probe": f"{x}1",
    }
    user = {f"{x}{p}": ("input",) for p in range(1, n + 1)}
    user[target] = ("target",)
    built = Built(inputs=inputs, params=params, nodes=nodes, loss="E", latex=latex, meta=meta,
                  user_names=user)
    return built, init
