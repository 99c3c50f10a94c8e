"""A student's ANSWERS file: the paths, local partials, products and gradient they computed.

Read like a spec: safe YAML with line numbers (`source`), expressions through pathgrad's own
grammar checked against the spec's declared names, and every mistake in the file is one
`file:line: key: message` error. Whether the answers are *right* is `analyses.grading`'s job;
here only their form is checked (a wrong path is graded, a path that is not a list is an error).

    weight: w11                       # optional when --weight is given
    values: {w11: 0.3}                # optional: the point the answers are for (a variant)
    paths:
      - nodes: [w11, a01, a11, Out, E]
        factors: [0.0468, 1.5, "w21*a11*(1-a11)", 0.235]   # factors[i] = ∂nodes[i+1]/∂nodes[i]
        value: -0.00432
    gradient: -0.00577
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import ExpressionError, Location, SpecError, suggest
from . import grammar as g
from .model import Spec
from .source import Document, kind_of, read
from .values import Limits

__all__ = ["ANSWER_KEYS", "PATH_KEYS", "Given", "AnswerPath", "Answers", "read_answers"]

ANSWER_KEYS = ("weight", "values", "paths", "gradient")
PATH_KEYS = ("nodes", "factors", "value")


@dataclass(frozen=True)
class Given:
    """One number or expression as the student wrote it."""

    text: str  # as written (for messages)
    number: Fraction | None = None  # a number, or an expression without names
    expr: g.Expr | None = None  # an expression in the network's names
    line: int | None = None

    @property
    def symbolic(self) -> bool:
        return self.expr is not None


@dataclass(frozen=True)
class AnswerPath:
    """One path as the student wrote it; factors/value are None when left out."""

    nodes: tuple[str, ...]
    factors: tuple[Given, ...] | None
    value: Given | None
    line: int | None = None


@dataclass(frozen=True)
class Answers:
    """A checked ANSWERS file."""

    weight: str | None
    paths: tuple[AnswerPath, ...]
    gradient: Given | None
    values: dict[str, Fraction] = field(default_factory=dict)
    source: str = "<string>"


def read_answers(source: str | os.PathLike[str], spec: Spec, *,
                 limits: Limits | None = None) -> Answers:
    """Read and check an ANSWERS file (a path or YAML text) against `spec`'s names.

    >>> from pathgrad import load
    >>> spec = load("params: {w: 3}\\ninputs: {x: 2}\\nnodes: {h: w*x, E: h^2}")
    >>> a = read_answers("paths:\\n  - nodes: [w, h, E]\\n    factors: [x, 2*h]\\n", spec)
    >>> a.paths[0].nodes, [f.text for f in a.paths[0].factors]
    (('w', 'h', 'E'), ['x', '2*h'])
    """
    limits = limits or Limits.from_env()
    doc = _read(source, limits)
    data = doc.data
    for key in data:
        if key not in ANSWER_KEYS:
            raise SpecError(f"unknown key '{key}' in an answers file",
                            Location(doc.source, doc.key_line(key)),
                            suggest(str(key), ANSWER_KEYS) or "the keys are "
                            + ", ".join(ANSWER_KEYS))
    weight = data.get("weight")
    if weight is not None and not isinstance(weight, str):
        raise SpecError(f"the weight must be a name, found {kind_of(weight, True)}",
                        doc.where("weight", key=False), "for example `weight: w11`")
    if weight is not None and spec.kind(weight) is None:
        raise SpecError(f"'{weight}' is not a name in {spec.source}", doc.where("weight"),
                        suggest(weight, spec.names))
    values = _values(doc, spec)
    raw_paths = data.get("paths")
    if raw_paths is None:
        raw_paths = []
    if not isinstance(raw_paths, list):
        raise SpecError(f"paths must be a list of paths, found {kind_of(raw_paths)}",
                        doc.where("paths", key=False),
                        "write one `- nodes: [...]` item per path")
    paths = tuple(_path(doc, spec, i, item, limits) for i, item in enumerate(raw_paths))
    gradient = _number(doc, ("gradient",), data.get("gradient"), limits)
    if not paths and gradient is None:
        raise SpecError("the answers file has neither paths nor a gradient",
                        Location(doc.source, 1), "add `paths:` (one `- nodes: [...]` item per "
                        "path) or `gradient: NUMBER`")
    return Answers(weight, paths, gradient, values, doc.source)


def _read(source: str | os.PathLike[str], limits: Limits) -> Document:
    try:
        return read(source, max_bytes=limits.max_bytes)
    except SpecError as exc:  # source's messages speak of a spec; this file is answers
        if "is empty" in exc.message:
            raise SpecError(exc.message.split(":")[0] + ": an answers file needs `paths:` or "
                            "`gradient:`", exc.where) from None
        if "top level must be a mapping" in exc.message:
            raise SpecError(exc.message.split(",")[0] + ", found " + exc.message.split(
                "found ")[-1], exc.where, "start with lines such as `weight:` and `paths:`"
            ) from None
        raise


def _values(doc: Document, spec: Spec) -> dict[str, Fraction]:
    raw = doc.data.get("values")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError(f"values must be a mapping name: number, found {kind_of(raw)}",
                        doc.where("values", key=False), "for example `values: {w11: 0.3}`")
    out: dict[str, Fraction] = {}
    for name, value in raw.items():
        kind = spec.kind(name)
        if kind is None:
            raise SpecError(f"'{name}' is not a name in {spec.source}", doc.where("values", name),
                            suggest(name, [*spec.inputs, *spec.params]))
        if kind == "node":
            raise SpecError(f"'{name}' is a node: its value comes from its expression",
                            doc.where("values", name), "give values of inputs and params only")
        number = _plain_number(value)
        if number is None:
            raise SpecError(f"'{name}' must be a number, found {kind_of(value, True)}",
                            doc.where("values", name, key=False), "for example 0.35")
        out[name] = number
    return out


def _path(doc: Document, spec: Spec, i: int, item: Any, limits: Limits) -> AnswerPath:
    where = doc.where("paths", i)
    if isinstance(item, list):
        raise SpecError("a path is a mapping with `nodes:`, found a bare list", where,
                        "write `- nodes: [w11, a01, E]`")
    if not isinstance(item, dict):
        raise SpecError(f"a path is a mapping with `nodes:`, found {kind_of(item, True)}",
                        where, "write `- nodes: [w11, a01, E]`")
    for key in item:
        if key not in PATH_KEYS:
            raise SpecError(f"unknown key '{key}' in a path", doc.where("paths", i, key),
                            suggest(str(key), PATH_KEYS) or "a path has nodes, factors and value")
    if "nodes" not in item:
        raise SpecError("this path has no `nodes:`", where,
                        "list the names along the path, weight first: `nodes: [w11, a01, E]`")
    nodes = item["nodes"]
    if not isinstance(nodes, list):
        raise SpecError(f"nodes must be a list of names, found {kind_of(nodes, True)}",
                        doc.where("paths", i, "nodes", key=False), "write `[w11, a01, E]`")
    if len(nodes) < 2:
        raise SpecError("the path is empty" if not nodes else "a path has at least two names",
                        doc.where("paths", i, "nodes", key=False),
                        "list the names along the path, the weight first and the loss last")
    for j, n in enumerate(nodes):
        if not isinstance(n, str):
            raise SpecError(f"{kind_of(n, True)} is not a name",
                            doc.where("paths", i, "nodes", j, key=False),
                            "names are identifiers such as w11 or a01")
    factors = item.get("factors")
    given_factors: tuple[Given, ...] | None = None
    if factors is not None:
        if not isinstance(factors, list):
            raise SpecError(f"factors must be a list, found {kind_of(factors, True)}",
                            doc.where("paths", i, "factors", key=False),
                            "one number or expression per edge, weight side first")
        if factors:
            if len(factors) != len(nodes) - 1:
                raise SpecError(f"{len(factors)} factor{'s' if len(factors) != 1 else ''} for "
                                f"a path of {len(nodes) - 1} edge{'s' if len(nodes) != 2 else ''}",
                                doc.where("paths", i, "factors", key=False),
                                "give one factor per edge: factors[i] = ∂nodes[i+1]/∂nodes[i]")
            given_factors = tuple(_factor(doc, spec, ("paths", i, "factors", j), f, limits)
                                  for j, f in enumerate(factors))
    value = _number(doc, ("paths", i, "value"), item.get("value"), limits)
    return AnswerPath(tuple(nodes), given_factors, value, doc.key_line("paths", i))


def _plain_number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        return None
    return Fraction(value)


def _parse(doc: Document, path: tuple, text: str, limits: Limits) -> g.Expr:
    where = doc.where(*path, key=False)
    try:
        return g.parse(text, max_length=limits.max_expression_chars, max_depth=limits.max_depth)
    except ExpressionError as exc:
        raise ExpressionError(exc.message, where, exc.suggestion, exc.excerpt, exc.caret,
                              exc.limit) from None


def _number(doc: Document, path: tuple, value: Any, limits: Limits) -> Given | None:
    """A value or gradient: a number, or a constant expression such as "-4.32e-3"."""
    if value is None:
        return None
    line = doc.line(*path)
    number = _plain_number(value)
    if number is not None:
        return Given(_shown(value), number, None, line)
    if isinstance(value, str):
        try:
            constant = g.constant_value(_parse(doc, path, value, limits))
        except ExpressionError:
            constant = None  # "about -0.004" is text, not a broken expression
        if constant is not None:
            return Given(value.strip(), constant, None, line)
    shown = kind_of(value, True)
    if isinstance(value, float):
        shown = f"'{value}'"
    raise SpecError(f"must be a number, found {shown}", doc.where(*path, key=False),
                    "write a number such as -0.00432")


def _factor(doc: Document, spec: Spec, path: tuple, value: Any, limits: Limits) -> Given:
    line = doc.line(*path)
    number = _plain_number(value)
    if number is not None:
        return Given(_shown(value), number, None, line)
    if not isinstance(value, str):
        shown = f"'{value}'" if isinstance(value, float) else kind_of(value, True)
        raise SpecError(f"a factor is a number or an expression, found {shown}",
                        doc.where(*path, key=False), "for example 1.5 or \"w21*a11*(1-a11)\"")
    expr = _parse(doc, path, value, limits)
    declared = set(spec.names)
    for name in _names(expr):
        if name.id not in declared and name.id != "pi":
            raise ExpressionError(f"unknown name '{name.id}'", doc.where(*path, key=False),
                                  suggest(name.id, spec.names) or "use the network's names",
                                  value, name.col)
    constant = g.constant_value(expr) if not g.free_names(expr) else None
    if constant is not None:
        return Given(value.strip(), constant, None, line)
    return Given(value.strip(), None, expr, line)


def _names(expr: g.Expr) -> list[g.Name]:
    out: list[g.Name] = []
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, g.Name):
            out.append(e)
        elif isinstance(e, g.Neg):
            stack.append(e.operand)
        elif isinstance(e, g.BinOp):
            stack += (e.right, e.left)
        elif isinstance(e, g.Call):
            stack.extend(reversed(e.args))
    return out


def _shown(value: int | Fraction) -> str:
    """A number as the student (probably) wrote it: exact decimals stay decimals."""
    return g.to_text(g.Num(Fraction(value)))
