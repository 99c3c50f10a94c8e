"""The `batch` builder: one network, several examples; the loss is the mean over the examples.

```yaml
batch:
  examples:              # required: one mapping of input values per example
    - {x1: 0.05, x2: 0.10, y: 0.01}
    - {x1: 0.50, x2: -0.20, y: 0.99}
```

It applies to any spec: the nodes form, or another builder's block (`mlp:`, `rnn:`,
`residual:`) in the same file. The inputs the examples set vary per example; every node that
depends on one of them is copied once per example with the suffix `_e{i}` (x1 → x1_e1, x1_e2;
a1_1 → a1_1_e1, …; `_ex{i}` or `_example{i}` if `_e{i}` would clash with a name in the spec).
Params, inputs no example sets (their values come from `inputs:`), and nodes that depend on no
varying input are shared. An input an example leaves out takes its value from `inputs:`.
The loss keeps its name: E = (E_e1 + … + E_eN)/N, the mean of the per-example losses, so each
param's paths fan out through every example: ∂E/∂w = (1/N)·Σ_i ∂E_ei/∂w.

`meta["groups"]` maps every copied node to "example i" ("example i, step t" for an rnn), so a
path's group is the example it runs through.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ...errors import LimitError, SpecError, suggest
from .. import grammar as g
from ..source import Document
from ._common import Block, add_all, check_size, kind_of

if TYPE_CHECKING:
    from ..model import Spec

__all__ = ["build", "rename", "MAX_EXAMPLES", "SUFFIXES"]

MAX_EXAMPLES = 10_000
SUFFIXES = ("_e", "_ex", "_example")


def rename(expr: g.Expr, mapping: Mapping[str, str]) -> g.Expr:
    """`expr` with names replaced per `mapping`; unchanged subtrees are shared, not copied.

    Iterative, so a long chain of sums never reaches Python's recursion limit.
    """
    done: dict[int, g.Expr] = {}
    stack: list[tuple[g.Expr, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if id(e) in done:
            continue
        if isinstance(e, g.Name):
            done[id(e)] = g.Name(mapping[e.id]) if e.id in mapping else e
            continue
        if isinstance(e, g.Num):
            done[id(e)] = e
            continue
        kids: tuple[g.Expr, ...] = (e.operand,) if isinstance(e, g.Neg) else (
            (e.left, e.right) if isinstance(e, g.BinOp) else e.args)  # type: ignore[union-attr]
        if not ready:
            stack.append((e, True))
            stack.extend((k, False) for k in kids if id(k) not in done)
            continue
        new = tuple(done[id(k)] for k in kids)
        if all(n is k for n, k in zip(new, kids)):
            done[id(e)] = e
        elif isinstance(e, g.Neg):
            done[id(e)] = g.Neg(new[0])
        elif isinstance(e, g.BinOp):
            done[id(e)] = g.BinOp(e.op, new[0], new[1])
        else:
            done[id(e)] = g.Call(e.func, new)  # type: ignore[union-attr]
    return done[id(expr)]


def _examples(b: Block, inner: Spec) -> list[dict[str, Fraction | None]]:
    from ..values import parse_value

    raw = b.raw.get("examples")
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"must be a non-empty list of examples, found {kind_of(raw)}",
                        b.where("examples"),
                        "for example `examples: [{x: 1, y: 0}, {x: 2, y: 1}]`")
    if len(raw) > MAX_EXAMPLES:
        raise LimitError(f"{len(raw):,} examples; the limit is {MAX_EXAMPLES:,}",
                         b.where("examples"))
    out = []
    for i, example in enumerate(raw):
        if not isinstance(example, Mapping) or not example:
            raise SpecError(f"an example must be a mapping of input values, found "
                            f"{kind_of(example)}", b.where("examples", i),
                            "for example {x: 1, y: 0}")
        values: dict[str, Fraction | None] = {}
        for name, value in example.items():
            where = b.where("examples", i, name)
            kind = inner.kind(name) if isinstance(name, str) else None
            if kind == "param":
                raise SpecError("a param: params are shared by every example; an example sets "
                                "inputs", where,
                                "give its value under `params:`")
            if kind == "node":
                raise SpecError("a node, computed from its expression; an example sets inputs",
                                where)
            if kind is None:
                hint = suggest(str(name), inner.inputs) or "the inputs are " + ", ".join(
                    list(inner.inputs)[:8])
                raise SpecError(f"'{name}' is not an input", where, hint)
            try:
                values[name] = parse_value(value)
            except ValueError as exc:
                raise SpecError(f"{exc}", b.doc.where("batch", "examples", i, name,
                                                      key=False)) from None
        out.append(values)
    return out


def build(doc: Document, inner: Spec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Copy `inner` (the spec without its `batch:` block) once per example; mean the losses."""
    b = Block(doc, "batch", "{examples: [{x: 1, y: 0}, {x: 2, y: 1}]}")
    b.check_keys(("examples",), required=("examples",))
    examples = _examples(b, inner)
    n = len(examples)
    varying = [x for x in inner.inputs if any(x in ex for ex in examples)]
    graph = inner.graph
    dependent = set(varying)
    for node in graph.order:
        if node in inner.nodes and any(d in dependent for d in graph.deps(node)):
            dependent.add(node)
    if inner.loss not in dependent:
        raise SpecError(f"the loss '{inner.loss}' depends on none of the inputs the examples "
                        f"set ({', '.join(varying)})", b.where("examples"),
                        "set the inputs the loss depends on")
    copied = [*varying, *(x for x in inner.nodes if x in dependent)]
    own = len(copied) - len(varying)  # the nodes copied once per example (the loss among them)
    deps = inner.graph.deps
    own_edges = sum(len(deps(x)) for x in copied[len(varying):])
    all_edges = sum(len(deps(x)) for x in inner.nodes)
    check_size(len(inner.names) + n * len(copied), b.where("examples"), "this batch",
               nodes=len(inner.nodes) - own + n * own + 1,
               edges=all_edges - own_edges + n * own_edges + n)  # + the mean of n losses
    taken = set(inner.names)
    for suffix in SUFFIXES:
        if all(f"{x}{suffix}{i}" not in taken for x in copied for i in range(1, n + 1)):
            break
    else:
        raise SpecError("cannot name the per-example copies: names ending in _e1, _ex1 and "
                        "_example1 are all taken", b.where(), "rename the nodes that end so")
    maps = [{x: f"{x}{suffix}{i}" for x in copied} for i in range(1, n + 1)]

    inputs: dict[str, Fraction | None] = {x: v for x, v in inner.inputs.items()
                                          if x not in dependent}
    nodes: dict[str, g.Expr] = {x: e for x, e in inner.nodes.items() if x not in dependent}
    inner_groups: dict[str, str] = inner.meta.get("groups") or {}
    groups = {x: lab for x, lab in inner_groups.items() if x not in dependent}
    for i, (example, names) in enumerate(zip(examples, maps), 1):
        for x in varying:
            inputs[names[x]] = example.get(x, inner.inputs[x])
        for x in copied[len(varying):]:
            nodes[names[x]] = rename(inner.nodes[x], names)
            label = f"example {i}"
            groups[names[x]] = f"{label}, {inner_groups[x]}" if x in inner_groups else label
    losses = [g.Name(m[inner.loss]) for m in maps]
    nodes[inner.loss] = g.BinOp("/", add_all(losses), g.Num(Fraction(n))) if n > 1 \
        else losses[0]
    latex = {x: t for x, t in inner.latex.items() if x not in dependent or x == inner.loss}
    latex.update(_copy_latex(inner, copied, maps))

    meta = {k: v for k, v in inner.meta.items() if k != "path_lengths"}  # lengths change
    title = inner.meta.get("group_title")
    shown = ", ".join(varying[:6]) + (", …" if len(varying) > 6 else "")
    meta.update(
        builders=[*meta.get("builders", []), "batch"],
        summary=[*meta.get("summary", []),
                 f"batch: {n} example{'s' * (n != 1)} set {shown}; every node that depends on "
                 f"them is copied per example ({inner.loss}{suffix}1 … {inner.loss}{suffix}{n}), "
                 f"params are shared; {inner.loss} = the mean of the {n} per-example losses"],
        batch={"examples": n, "inputs": varying, "suffix": suffix,
               "copied": copied[len(varying):]},
        groups=groups,
        group_title=f"example, {title}" if title else "example",
    )
    data: dict[str, Any] = {k: doc.data[k] for k in ("version", "name", "description")
                            if k in doc.data}
    data.update(inputs=inputs, params=dict(inner.params), nodes=nodes, loss=inner.loss,
                latex=latex)
    return data, meta


def _copy_latex(inner: Spec, copied: list[str], maps: list[dict[str, str]]) -> dict[str, str]:
    """x1_e2 shows as {x_{1}}^{[2]}: the original's display name, the example as [i]."""
    missing = [x for x in copied if x not in inner.latex]
    base = dict(inner.latex)
    if missing:
        import sympy as sp  # only for names the spec gives no LaTeX; sympy's own default

        base.update({x: sp.latex(sp.Symbol(x)) for x in missing})
    return {names[x]: "{%s}^{[%d]}" % (base[x], i)
            for i, names in enumerate(maps, 1) for x in copied}
