"""The spec stage: YAML data checked against the spec format and turned into a `Spec`.

Nothing here evaluates spec text: expressions go through pathgrad's own grammar, names are
checked against what the spec declares, and every mistake names its file, line and key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import grammar as g
from .errors import ExpressionError, LimitError, Location, SpecError, suggest
from .source import Document, read

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Spec", "Limits", "load", "from_document", "parse_value", "BUILDER_KEYS"]

SPEC_KEYS = ("version", "name", "description", "inputs", "params", "nodes", "loss", "latex")
BUILDER_KEYS = ("mlp", "rnn", "residual", "batch")
SECTIONS = ("inputs", "params", "nodes")


@dataclass(frozen=True)
class Limits:
    """How large a spec may be before pathgrad refuses it instead of exhausting memory."""

    max_names: int = 500_000
    max_expression_chars: int = 10_000
    max_depth: int = 100
    max_bytes: int = 5_000_000


@dataclass(frozen=True)
class Spec:
    """A checked network: leaves with optional values, node expressions (ASTs), the loss."""

    inputs: dict[str, Fraction | None]
    params: dict[str, Fraction | None]
    nodes: dict[str, g.Expr]
    loss: str
    name: str | None = None
    description: str | None = None
    latex: dict[str, str] = field(default_factory=dict)
    source: str = "<string>"
    lines: dict[str, int] = field(default_factory=dict, compare=False)
    builder: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def graph(self) -> Graph:
        """The spec's DAG (built once)."""
        from .graph import Graph

        return Graph(self)

    @property
    def names(self) -> list[str]:
        """Every declared name: inputs, params, then nodes."""
        return [*self.inputs, *self.params, *self.nodes]

    def kind(self, name: str) -> str | None:
        """'input', 'param', 'node', or None if `name` is not declared."""
        for kind, section in (("input", self.inputs), ("param", self.params), ("node", self.nodes)):
            if name in section:
                return kind
        return None

    def line_of(self, name: str) -> int | None:
        """The line where `name` is declared, if known."""
        return self.lines.get(name)

    def where(self, section: str, name: str | None = None) -> Location:
        """A Location for a key of the spec, e.g. where('nodes', 'a11')."""
        key = section if name is None else f"{section}.{name}"
        line = self.lines.get(name) if name is not None else None
        return Location(self.source, line, None, key)

    def text(self, name: str) -> str:
        """A node's expression as canonical text."""
        return g.to_text(self.nodes[name])

    def values(self) -> dict[str, Fraction | None]:
        """Values of every leaf (None where the spec gives none)."""
        return {**self.inputs, **self.params}


def load(source: str | os.PathLike[str], *, limits: Limits | None = None) -> Spec:
    """Read and check a spec from a path or YAML text.

    >>> spec = load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {y: w*x, E: y^2}")
    >>> spec.loss, list(spec.nodes)
    ('E', ['y', 'E'])
    """
    limits = limits or Limits()
    doc = read(source, max_bytes=limits.max_bytes, max_items=max(200_000, limits.max_names * 2))
    return from_document(doc, limits=limits)


def from_document(doc: Document, *, limits: Limits | None = None) -> Spec:
    """Check a read `Document` and build the Spec (expanding builder blocks first)."""
    limits = limits or Limits()
    data = doc.data
    known = SPEC_KEYS + BUILDER_KEYS
    for key in data:
        if key not in known:
            hint = suggest(str(key), known) or "the keys are " + ", ".join(SPEC_KEYS)
            raise SpecError(f"unknown top-level key '{key}'", doc.where(key), hint)
    builder = None
    meta: dict[str, Any] = {}
    used = [k for k in BUILDER_KEYS if k in data]
    if used:
        from .builders import expand  # builders are only loaded for specs that use them

        builder = used[0]
        data, meta = expand(data, doc)
    version = data.get("version", 1)
    if version != 1:
        raise SpecError(f"unsupported spec version {version!r}; this pathgrad reads version 1",
                        doc.where("version"))
    lines: dict[str, int] = {}
    declared: dict[str, str] = {}
    inputs = _leaves(data, "inputs", doc, lines, declared)
    params = _leaves(data, "params", doc, lines, declared)
    raw_nodes = data.get("nodes")
    if raw_nodes is None or raw_nodes == {}:
        raise SpecError("the spec has no nodes: add a `nodes:` mapping of name: expression",
                        doc.where("nodes") if "nodes" in data else Location(doc.source))
    if not isinstance(raw_nodes, Mapping):
        raise SpecError(f"`nodes` must be a mapping of name: expression, found {_kind(raw_nodes)}",
                        doc.where("nodes"))
    for name in raw_nodes:
        _declare(name, "nodes", doc, lines, declared)
    if len(declared) > limits.max_names:
        raise LimitError(f"the spec declares {len(declared):,} names; the limit is "
                         f"{limits.max_names:,}", Location(doc.source))
    nodes = {name: _expression(name, raw, doc, declared, limits)
             for name, raw in raw_nodes.items()}
    loss = _loss(data, doc, nodes, declared)
    latex = _latex(data, doc, declared)
    text = data.get("name")
    desc = data.get("description")
    for key, val in (("name", text), ("description", desc)):
        if val is not None and not isinstance(val, str | int | Fraction):
            raise SpecError(f"`{key}` must be text, found {_kind(val)}", doc.where(key))
    spec = Spec(
        inputs=inputs,
        params=params,
        nodes=nodes,
        loss=loss,
        name=None if text is None else str(text),
        description=None if desc is None else str(desc),
        latex=latex,
        source=doc.source,
        lines=lines,
        builder=builder,
        meta=meta,
    )
    spec.graph  # noqa: B018 - checks the nodes form a DAG, naming the cycle if not
    return spec


def parse_value(raw: object) -> Fraction | None:
    """A leaf value: a number (exact), or None. Raises ValueError for anything else."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("true/false is not a number")
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, Fraction):
        return raw
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueError(f"{raw} is not a finite number")
        return Fraction(raw)
    if isinstance(raw, str):
        try:
            expr = g.parse(raw.strip(), max_length=100)
        except ExpressionError:
            expr = None
        value = g.constant_value(expr) if expr is not None else None
        if value is not None:
            return value
        raise ValueError(f"'{raw}' is not a number")
    raise ValueError(f"{_kind(raw)} is not a number")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text '{value}'" if len(value) < 40 else "a text"
    return "a number"


def _declare(name: object, section: str, doc: Document, lines: dict, declared: dict) -> str:
    where = doc.where(section, name)
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(f"'{name}' in `{section}` is not a valid name: use letters, digits and _, "
                        "not starting with a digit", where)
    if name.startswith("__"):
        raise SpecError(f"'{name}' in `{section}`: names starting with '__' are not allowed", where)
    if name in g.FUNCTIONS:
        raise SpecError(f"'{name}' in `{section}` is a function name; choose another name", where)
    if name in declared:
        first = lines.get(name)
        at = f" (line {first})" if first else ""
        raise SpecError(f"name '{name}' is declared twice: in `{declared[name]}`{at} and in "
                        f"`{section}`", where)
    declared[name] = section
    line = doc.key_line(section, name) if isinstance(doc.data.get(section), Mapping) else None
    if line is None and section in doc.data:
        line = doc.line(section)
    if line is not None:
        lines[name] = line
    return name


def _leaves(data: Mapping, section: str, doc: Document, lines: dict,
            declared: dict) -> dict[str, Fraction | None]:
    raw = data.get(section)
    if raw is None:
        return {}
    if isinstance(raw, list):
        out: dict[str, Fraction | None] = {}
        for i, name in enumerate(raw):
            if not isinstance(name, str):
                raise SpecError(f"`{section}` lists names; item {i + 1} is {_kind(name)}",
                                doc.where(section, i))
            _declare(name, section, doc, lines, declared)
            line = doc.line(section, i)
            if line is not None:
                lines[name] = line
            out[name] = None
        return out
    if not isinstance(raw, Mapping):
        raise SpecError(f"`{section}` must be a mapping (name: value) or a list of names, "
                        f"found {_kind(raw)}", doc.where(section))
    out = {}
    for name, value in raw.items():
        _declare(name, section, doc, lines, declared)
        try:
            out[name] = parse_value(value)
        except ValueError as exc:
            raise SpecError(f"value of '{name}' must be a number or null: {exc}",
                            doc.where(section, name, key=False)) from None
    return out


def _expression(name: str, raw: object, doc: Document, declared: Mapping[str, str],
                limits: Limits) -> g.Expr:
    where = doc.where("nodes", name, key=False)
    if isinstance(raw, g.Num | g.Name | g.Neg | g.BinOp | g.Call):
        expr = raw  # a builder's ready-made AST
        text = g.to_text(expr) if g.size(expr) < 2_000 else ""
    else:
        if raw is None:
            raise SpecError(f"node '{name}' has no expression", where)
        if isinstance(raw, bool) or not isinstance(raw, str | int | Fraction):
            raise SpecError(f"node '{name}' must be an expression, found {_kind(raw)}", where)
        text = raw if isinstance(raw, str) else g.to_text(g.Num(Fraction(raw), 0))
        try:
            expr = g.parse(text, max_length=limits.max_expression_chars,
                           max_depth=limits.max_depth)
        except ExpressionError as exc:
            raise ExpressionError(exc.message, where, exc.suggestion,
                                  exc.excerpt, exc.caret) from None
    for ref in _names_with_columns(expr):
        if ref.id in declared or ref.id == "pi":
            continue
        if ref.id in g.FUNCTIONS:
            hint = f"call it as {ref.id}(...)"
            msg = f"'{ref.id}' is a function, not a value"
        else:
            hint = suggest(ref.id, declared) or "declare it under `inputs`, `params` or `nodes`"
            msg = f"unknown name '{ref.id}'"
        raise ExpressionError(msg, where, hint, text or None, ref.col if text else None)
    return expr


def _names_with_columns(expr: g.Expr) -> list[g.Name]:
    out: list[g.Name] = []
    stack: list[g.Expr] = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, g.Name):
            out.append(e)
        elif isinstance(e, g.Neg):
            stack.append(e.operand)
        elif isinstance(e, g.BinOp):
            stack.extend((e.right, e.left))
        elif isinstance(e, g.Call):
            stack.extend(reversed(e.args))
    return out


def _loss(data: Mapping, doc: Document, nodes: Mapping[str, g.Expr],
          declared: Mapping[str, str]) -> str:
    loss = data.get("loss")
    if loss is not None:
        if not isinstance(loss, str):
            raise SpecError(f"`loss` must name a node, found {_kind(loss)}", doc.where("loss"))
        if loss not in nodes:
            if loss in declared:
                raise SpecError(f"the loss '{loss}' is in `{declared[loss]}`; the loss must be a "
                                "node", doc.where("loss"))
            raise SpecError(f"the loss '{loss}' is not a node", doc.where("loss"),
                            suggest(loss, nodes))
        return loss
    used = {n for e in nodes.values() for n in g.free_names(e)}
    sinks = [n for n in nodes if n not in used]
    if len(sinks) == 1:
        return sinks[0]
    if not sinks:
        return list(nodes)[-1]  # a cycle; the graph check names it
    shown = ", ".join(sinks[:6]) + (", …" if len(sinks) > 6 else "")
    raise SpecError(f"no `loss:` given and {len(sinks)} nodes are used by no other node "
                    f"({shown}); say which one is the loss", Location(doc.source, key="loss"),
                    f"add `loss: {sinks[-1]}`")


def _latex(data: Mapping, doc: Document, declared: Mapping[str, str]) -> dict[str, str]:
    raw = data.get("latex")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"`latex` must map names to LaTeX, found {_kind(raw)}", doc.where("latex"))
    out = {}
    for name, tex in raw.items():
        if name not in declared:
            raise SpecError(f"`latex` names '{name}', which is not declared",
                            doc.where("latex", name), suggest(str(name), declared))
        if not isinstance(tex, str | int | Fraction):
            raise SpecError(f"`latex` of '{name}' must be text, found {_kind(tex)}",
                            doc.where("latex", name, key=False))
        out[name] = str(tex)
    return out
