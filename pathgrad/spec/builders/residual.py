"""The `residual` builder: n scalar blocks a{i} = a{i−1} + f_i(a{i−1}) (Veit et al. 2016).

```yaml
residual:
  input: x             # the input; it is a0 itself (default x)
  blocks: 3            # required: n, the number of residual blocks
  activation: tanh     # f_i(a) = act(w{i}·a + b{i}): sigmoid, tanh (default), relu, softplus,
                       # linear
  bias: true           # b{i} in every block (default true)
  target: y            # E = ½·(y − a{n})² (default y)
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

Generated names: params `w{i}`, `b{i}`; nodes `z{i} = w{i}·a{i−1} + b{i}`, `h{i} = act(z{i})`,
`a{i} = a{i−1} + h{i}` (a0 is the input, so block 1 reads x), and the loss `E`.

Each block either skips (a{i−1} → a{i}: one edge, local partial 1) or goes through its branch
(a{i−1} → z{i} → h{i} → a{i}: three edges), so the input has 2^n paths to E: C(n, k) of them
take k branches and have n + 2k + 1 edges. `meta["path_lengths"]` holds that distribution
(length in edges → count); `pathgrad.graph.length_counts` computes it for any graph.
Initial values: uniform(−1, 1) (fan_in 1), 4 decimals.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ...errors import SpecError, count_text
from .. import grammar as g
from ..source import Document
from ._common import ACTIVATIONS, Block, Built, Initializer, call, check_size, mul

__all__ = ["build", "KEYS", "MAX_BLOCKS"]

KEYS = ("input", "blocks", "activation", "bias", "target", "init")
MAX_BLOCKS = 10_000


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `residual:` block of `doc` and build the chain of blocks."""
    b = Block(doc, "residual", "{input: x, blocks: 3}")
    b.check_keys(KEYS, required=("blocks",))
    x = b.name("input", "x")
    n = b.integer("blocks", most=MAX_BLOCKS)
    act = b.choice("activation", list(ACTIVATIONS), "tanh", what="activation")
    bias = b.flag("bias", True)
    target = b.name("target", "y")
    seed = b.seed()
    if target == x:
        raise SpecError(f"'{target}' is both the input and the target", b.where("target"),
                        "choose another name")
    check_size(6 * n + 3, b.where("blocks"), "this residual network", nodes=3 * n + 1,
               edges=n * (6 if bias else 5) + 2)  # z: w·a + b; h; a: a + h; E: y, a

    init = Initializer(seed)
    params: dict[str, Any] = {}
    nodes: dict[str, g.Expr] = {}
    latex: dict[str, str] = {}
    func = ACTIVATIONS[act]
    prev = g.Name(x)
    for i in range(1, n + 1):
        params[f"w{i}"] = None
        init.add(f"w{i}", 1)
        z: g.Expr = mul(g.Name(f"w{i}"), prev)
        if bias:
            params[f"b{i}"] = None
            init.add(f"b{i}", 1)
            z = g.BinOp("+", z, g.Name(f"b{i}"))
        nodes[f"z{i}"] = z
        nodes[f"h{i}"] = call(func, g.Name(f"z{i}")) if func else g.Name(f"z{i}")
        nodes[f"a{i}"] = g.BinOp("+", prev, g.Name(f"h{i}"))
        for kind in ("w", "b", "z", "h", "a"):
            latex[f"{kind}{i}"] = "%s_{%d}" % (kind, i)
        prev = g.Name(f"a{i}")
    two = g.Num(Fraction(2))
    nodes["E"] = g.BinOp("/", g.BinOp("^", g.BinOp("-", g.Name(target), prev), two), two)
    if not bias:
        latex = {k: v for k, v in latex.items() if k in params or k in nodes}

    lengths = {n + 2 * k + 1: c for k, c in enumerate(_binomials(n))}
    meta: dict[str, Any] = {
        "summary": [f"residual: {n} block{'s' * (n != 1)} a{{i}} = a{{i−1}} + {act}(w{{i}}·"
                    f"a{{i−1}}{' + b{i}' if bias else ''}); {count_text(2**n)} paths from {x} "
                    "to E, of lengths " + _lengths_text(lengths)],
        "residual": {"input": x, "blocks": n, "activation": act, "bias": bias,
                     "target": target},
        "path_lengths": {"source": x, "target": "E", "counts": lengths},
    }
    built = Built(inputs={x: None, target: None}, params=params, nodes=nodes, loss="E",
                  latex=latex, meta=meta, user_names={x: ("input",), target: ("target",)})
    return built, init


def _lengths_text(lengths: dict[int, int], most: int = 6) -> str:
    """'4 edges (1 path), 6 (3), 8 (3), 10 (1)'."""
    items = [f"{length} ({count_text(count)})" for length, count in lengths.items()]
    first, count = next(iter(lengths.items()))
    items[0] = f"{first} edges ({count_text(count)} path{'s' * (count != 1)})"
    shown = items if len(items) <= most else [*items[:most - 1], "…", items[-1]]
    return ", ".join(shown)


def _binomials(n: int) -> list[int]:
    """C(n, 0) … C(n, n), each from the one before (math.comb from scratch is quadratic)."""
    out = [1]
    for k in range(n):
        out.append(out[-1] * (n - k) // (k + 1))
    return out
