"""The `attention` builder: one head of scaled dot-product self-attention over a few tokens,
and the squared error of its outputs.

```yaml
attention:
  tokens: 3            # required: n; token i's features are x{i}_{k} (x{i} when dim is 1)
  dim: 2               # features per token (default 2)
  head: 2              # the size of queries, keys, values and outputs (default: dim)
  scale: true          # scores divided by √head (default true)
  input: x             # the inputs' letter (default x)
  target: y            # token i's targets y{i}_{c}, c = 1…head (default y)
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

Generated names (i, j tokens; c = 1…head; k = 1…dim):

- params `Wq_{c}_{k}`, `Wk_{c}_{k}`, `Wv_{c}_{k}`: feature k → component c   (W^{Q}_{ck} …)
- nodes `q{i}_{c} = Σ_k Wq_{c}_{k}·x{i}_{k}` (and `k{i}_{c}`, `v{i}_{c}` with Wk, Wv), the score
  `s{i}_{j} = (Σ_c q{i}_{c}·k{j}_{c})/sqrt(head)`, the softmax over j: `Z{i} = Σ_j exp(s{i}_{j})`
  and `a{i}_{j} = exp(s{i}_{j})/Z{i}` (α_{ij}), the output `o{i}_{c} = Σ_j a{i}_{j}·v{j}_{c}`,
  and the loss `E = ½·Σ_i Σ_c (y{i}_{c} − o{i}_{c})²`.

The softmax couples every score of a query to every one of its weights: s{i}_{j} reaches each
a{i}_{j′} through Z{i}. Each projection weight is used by every token, so its paths are grouped
by the token whose query, key or value it enters (`meta["groups"]`: "token i"). Initial
values: uniform(−1/√dim, 1/√dim), 4 decimals.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ...errors import SpecError
from .. import grammar as g
from ..source import Document
from ._cell import tex_index
from ._common import Block, Built, Initializer, add_all, call, check_size, half_sum_of_squares, mul

__all__ = ["build", "KEYS", "MAX_TOKENS"]

KEYS = ("tokens", "dim", "head", "scale", "input", "target", "init")
MAX_TOKENS = 1_000


def _sub(base: str, *units: int) -> str:
    head = base if len(base) == 1 else r"\mathrm{%s}" % base
    return "%s_{%s}" % (head, tex_index(*units))


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `attention:` block of `doc` and build the network."""
    b = Block(doc, "attention", "{tokens: 3, dim: 2}")
    b.check_keys(KEYS, required=("tokens",))
    n = b.integer("tokens", most=MAX_TOKENS)
    dim = b.integer("dim", 2, most=MAX_TOKENS)
    head = b.integer("head", dim, most=MAX_TOKENS)
    scale = b.flag("scale", True)
    x = b.name("input", "x")
    y = b.name("target", "y")
    seed = b.seed()
    for key, base in (("input", x), ("target", y)):
        if base[-1].isdigit():
            raise SpecError(f"the token number is appended to '{base}' ({base}1_1, …), so it "
                            "must not end in a digit", b.where(key),
                            f"write '{base.rstrip('0123456789') or 'x'}'")
    if x == y:
        raise SpecError(f"'{y}' is both the input and the target", b.where("target"),
                        "choose another name")
    check_size(n * dim + n * head + 3 * head * dim + 4 * n * head + 2 * n * n + n + 1,
               b.where("tokens"), "this attention head",
               nodes=4 * n * head + 2 * n * n + n + 1,
               # q, k, v: W·x over dim; scores: q·k over head; Z: n scores; a: s and Z;
               # o: a·v over n tokens; E: each target and output
               edges=6 * n * head * dim + 2 * n * n * head + n * n + 2 * n * n
               + 2 * n * n * head + 2 * n * head)

    def xname(i: int, k: int) -> str:
        return f"{x}{i}" if dim == 1 else f"{x}{i}_{k}"

    init = Initializer(seed)
    inputs: dict[str, Fraction | None] = {}
    latex: dict[str, str] = {}
    for i in range(1, n + 1):
        for k in range(1, dim + 1):
            inputs[xname(i, k)] = None
            latex[xname(i, k)] = _sub(x, i) if dim == 1 else _sub(x, i, k)
    for i in range(1, n + 1):
        for c in range(1, head + 1):
            inputs[f"{y}{i}_{c}"] = None
            latex[f"{y}{i}_{c}"] = _sub(y, i, c)
    params: dict[str, Fraction | None] = {}
    for w in ("q", "k", "v"):
        for c in range(1, head + 1):
            for k in range(1, dim + 1):
                name = f"W{w}_{c}_{k}"
                params[name] = None
                init.add(name, dim)
                latex[name] = "W^{%s}_{%s}" % (w.upper(), tex_index(c, k))
    nodes: dict[str, g.Expr] = {}
    groups: dict[str, str] = {}

    def node(name: str, expr: g.Expr, tex: str, token: int) -> None:
        nodes[name] = expr
        latex[name] = tex
        groups[name] = f"token {token}"

    for i in range(1, n + 1):
        for w in ("q", "k", "v"):
            for c in range(1, head + 1):
                node(f"{w}{i}_{c}", add_all([mul(g.Name(f"W{w}_{c}_{k}"), g.Name(xname(i, k)))
                                             for k in range(1, dim + 1)]), _sub(w, i, c), i)
    root = math.isqrt(head)
    divisor: g.Expr | None = None
    if scale and head > 1:
        divisor = g.Num(Fraction(root)) if root * root == head else \
            call("sqrt", g.Num(Fraction(head)))
    for i in range(1, n + 1):
        for j in range(1, n + 1):
            dot = add_all([mul(g.Name(f"q{i}_{c}"), g.Name(f"k{j}_{c}"))
                           for c in range(1, head + 1)])
            node(f"s{i}_{j}", g.BinOp("/", dot, divisor) if divisor else dot, _sub("s", i, j), i)
        node(f"Z{i}", add_all([call("exp", g.Name(f"s{i}_{j}")) for j in range(1, n + 1)]),
             _sub("Z", i), i)
        for j in range(1, n + 1):
            node(f"a{i}_{j}", g.BinOp("/", call("exp", g.Name(f"s{i}_{j}")), g.Name(f"Z{i}")),
                 r"\alpha_{%s}" % tex_index(i, j), i)
        for c in range(1, head + 1):
            node(f"o{i}_{c}", add_all([mul(g.Name(f"a{i}_{j}"), g.Name(f"v{j}_{c}"))
                                       for j in range(1, n + 1)]), _sub("o", i, c), i)
    nodes["E"] = half_sum_of_squares((f"{y}{i}_{c}", f"o{i}_{c}") for i in range(1, n + 1)
                                     for c in range(1, head + 1))

    scaled = f"/√{head}" if divisor else ""
    meta: dict[str, Any] = {
        "summary": [f"attention: one head over {n} token{'s' * (n != 1)} of {dim} feature"
                    f"{'s' * (dim != 1)}; q, k, v = Wq x, Wk x, Wv x ({head} each), "
                    f"s{{i}}_{{j}} = q{{i}}·k{{j}}{scaled}, a{{i}}_{{j}} = softmax over j, "
                    f"o{{i}} = Σ_j a{{i}}_{{j}}·v{{j}}; E = ½·Σ (y − o)²"],
        "attention": {"tokens": n, "dim": dim, "head": head, "scale": scale, "input": x,
                      "target": y},
        "groups": groups,
        "group_title": "token",
        "probe": xname(1, 1),
    }
    user: dict[str, tuple[str | int, ...]] = {name: ("input",) for name in inputs}
    user.update({f"{y}{i}_{c}": ("target",) for i in range(1, n + 1)
                 for c in range(1, head + 1)})
    built = Built(inputs=inputs, params=params, nodes=nodes, loss="E", latex=latex, meta=meta,
                  user_names=user)
    return built, init
