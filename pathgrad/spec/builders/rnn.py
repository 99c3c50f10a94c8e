"""The `rnn` builder: an Elman RNN unrolled over T steps, the same weights at every step.

```yaml
rnn:
  inputs: [x]          # input names; step t's value is x{t}: x1, x2, … (default [x])
  steps: 3             # required: T, the number of steps unrolled
  width: 1             # hidden units (default 1)
  activation: tanh     # hidden activation (default tanh): sigmoid, tanh, relu, softplus, linear
  loss: last           # last (default): E = ½·(y{T} − o{T})² | sum: E = ½·Σ_t (y{t} − o{t})²
  target: y            # step t's target is y{t} (default y)
  bias: true           # b (hidden) and c (output); false: none
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

Generated names, width 1 and one input (the BPTT lesson):

- inputs `x1 … xT`, the initial state `h0` (value 0 unless `inputs:` gives one), targets `y{t}`
- params `u` (input → hidden), `w` (hidden → hidden), `b`, `v` (hidden → output), `c`
- nodes `z{t} = w·h{t−1} + u·x{t} + b`, `h{t} = act(z{t})`, `o{t} = v·h{t} + c`
  (o only at the steps the loss uses), and the loss `E`.

With width H > 1 or several inputs the params and states carry unit indices: `u_{i}_{k}` (input
k → hidden i), `w_{i}_{j}` (hidden j → hidden i), `b_{i}`, `v_{i}`, `c`; `h{t}_{i}`, `z{t}_{i}`,
`h0_{i}`; the output stays one unit per step.

Every weight enters once per step, so ∂E/∂w is a sum over the steps where it enters (BPTT):
`meta["groups"]` maps each node of step t to "step t", and a path's group is that of its
second node. Initial values: uniform(−1/√fan_in, 1/√fan_in), 4 decimals; fan_in = H + number
of inputs for u, w, b and H for v, c.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ...errors import SpecError
from .. import grammar as g
from ..source import Document
from ._common import (
    ACTIVATIONS,
    Block,
    Built,
    Initializer,
    add_all,
    call,
    check_size,
    half_sum_of_squares,
    mul,
)

__all__ = ["build", "KEYS", "MAX_STEPS"]

KEYS = ("inputs", "steps", "width", "activation", "loss", "target", "bias", "init")
MAX_STEPS = 10_000


def _tex(base: str, t: int, unit: int | None = None) -> str:
    """x^{(t)}, h^{(t)}_{i}: the step as a superscript, as in Goodfellow et al."""
    head = base if len(base) == 1 else r"\mathrm{%s}" % base.replace("_", r"\_")
    return "%s^{(%d)}%s" % (head, t, "" if unit is None else "_{%d}" % unit)


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `rnn:` block of `doc` and build the unrolled network."""
    b = Block(doc, "rnn", "{inputs: [x], steps: 3}")
    b.check_keys(KEYS, required=("steps",))
    bases = b.names("inputs", ["x"], what="input names")
    steps = b.integer("steps", most=MAX_STEPS)
    width = b.integer("width", 1, most=1_000)
    act = b.choice("activation", list(ACTIVATIONS), "tanh", what="activation")
    loss = b.choice("loss", ("last", "sum"), "last", what="loss")
    target = b.name("target", "y")
    bias = b.flag("bias", True)
    seed = b.seed()
    for i, base in enumerate([*bases, target]):
        if base[-1].isdigit():
            path = ("inputs", i) if i < len(bases) else ("target",)
            raise SpecError(f"rnn names get the step appended ({base} → {base}1, {base}2, …), "
                            f"so '{base}' must not end in a digit", b.where(*path),
                            f"write '{base.rstrip('0123456789') or 'x'}'")
    if target in bases:
        raise SpecError(f"'{target}' is both an input and the target of the rnn",
                        b.where("target"), "choose another name")
    n_in = len(bases)
    check_size(steps * (2 * width + n_in + 3) + width * (width + n_in + 2), b.where("steps"),
               "this rnn", nodes=2 * steps * width + (steps if loss == "sum" else 1) + 1,
               # z: w·h + u·x (+ b); h; o: v·h (+ c) where the loss looks; E: y and o each
               edges=steps * width * (2 * width + 2 * n_in + bias + 1)
               + (steps if loss == "sum" else 1) * (2 * width + bias + 2))

    scalar = width == 1 and n_in == 1
    units = range(1, width + 1)
    one = width == 1

    def u(i: int, k: int) -> str:
        return "u" if scalar else f"u_{i}_{k}"

    def state(kind: str, t: int, i: int) -> str:
        return f"{kind}{t}" if one else f"{kind}{t}_{i}"

    init = Initializer(seed)
    inputs: dict[str, Any] = {}
    params: dict[str, Any] = {}
    latex: dict[str, str] = {}
    fan = width + n_in
    for i in units:
        for k in range(1, n_in + 1):
            params[u(i, k)] = None
            init.add(u(i, k), fan)
    for i in units:
        for j in units:
            name = "w" if one else f"w_{i}_{j}"
            params[name] = None
            init.add(name, fan)
    if bias:
        for i in units:
            name = "b" if one else f"b_{i}"
            params[name] = None
            init.add(name, fan)
    for i in units:
        name = "v" if one else f"v_{i}"
        params[name] = None
        init.add(name, width)
    if bias:
        params["c"] = None
        init.add("c", width)
    for name in params:
        if "_" in name:
            head, *idx = name.split("_")
            latex[name] = "%s_{%s}" % (head, ("," if any(len(x) > 1 for x in idx) else "")
                                       .join(idx))

    for i in units:
        inputs[state("h", 0, i)] = Fraction(0)  # the initial state; `inputs:` may set it
        latex[state("h", 0, i)] = _tex("h", 0, None if one else i)
    loss_steps = list(range(1, steps + 1)) if loss == "sum" else [steps]
    for t in range(1, steps + 1):
        for base in bases:
            inputs[f"{base}{t}"] = None
            latex[f"{base}{t}"] = _tex(base, t)
    for t in loss_steps:
        inputs[f"{target}{t}"] = None
        latex[f"{target}{t}"] = _tex(target, t)

    nodes: dict[str, g.Expr] = {}
    groups: dict[str, str] = {}
    func = ACTIVATIONS[act]
    for t in range(1, steps + 1):
        for i in units:
            terms: list[g.Expr] = []
            for j in units:
                terms.append(mul(g.Name("w" if one else f"w_{i}_{j}"),
                                 g.Name(state("h", t - 1, j))))
            for k, base in enumerate(bases, 1):
                terms.append(mul(g.Name(u(i, k)), g.Name(f"{base}{t}")))
            if bias:
                terms.append(g.Name("b" if one else f"b_{i}"))
            z, h = state("z", t, i), state("h", t, i)
            nodes[z] = add_all(terms)
            nodes[h] = call(func, g.Name(z)) if func else g.Name(z)
            groups[z] = groups[h] = f"step {t}"
            latex[z], latex[h] = _tex("z", t, None if one else i), _tex("h", t, None if one else i)
        if t in loss_steps:
            terms = [mul(g.Name("v" if one else f"v_{i}"), g.Name(state("h", t, i)))
                     for i in units]
            if bias:
                terms.append(g.Name("c"))
            nodes[f"o{t}"] = add_all(terms)
            groups[f"o{t}"] = f"step {t}"
            latex[f"o{t}"] = _tex("o", t)
    nodes["E"] = half_sum_of_squares((f"{target}{t}", f"o{t}") for t in loss_steps)
    shared = list(params)
    where = "the last step" if loss == "last" else "every step"
    meta: dict[str, Any] = {
        "summary": [f"rnn: Elman, {steps} step{'s' * (steps != 1)}, {n_in} input"
                    f"{'s' * (n_in != 1)}, width {width}, {act}; the params "
                    f"{', '.join(shared[:8])}{', …' if len(shared) > 8 else ''} are shared by "
                    f"every step; loss at {where}: E = ½·Σ (y{{t}} − o{{t}})²"],
        "rnn": {"inputs": bases, "steps": steps, "width": width, "activation": act,
                "loss": loss, "target": target, "bias": bias},
        "groups": groups,
        "group_title": "step",
    }
    user = {f"{base}{t}": ("inputs", k) for k, base in enumerate(bases)
            for t in range(1, steps + 1)}
    user.update({f"{target}{t}": ("target",) for t in loss_steps})
    return Built(inputs=inputs, params=params, nodes=nodes, loss="E", latex=latex, meta=meta,
                 user_names=user), init
