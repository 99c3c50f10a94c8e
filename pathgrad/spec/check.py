"""The spec stage: YAML data checked against the spec format and turned into a `Spec`.

Nothing here evaluates spec text: expressions go through pathgrad's own grammar, names are
checked against what the spec declares, and every mistake names its file, line and key.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from itertools import chain, repeat
from typing import Any

from ..errors import (
    ExpressionError,
    GraphError,
    LimitError,
    Location,
    PathgradError,
    SpecError,
    suggest,
)
from ..graph import Graph, declared_in_order
from . import grammar as g
from .builders import check_combination, expand, no_gc, without_batch
from .model import LazyLatex, LazyNodes, Spec
from .names import code_points, name_problem, skeleton
from .numbers import magnitude_problem
from .source import Document, kind_of, read
from .texnames import tex_problem
from .values import LIMIT_ENV, Limits, parse_value, too_many_edges, too_many_nodes

__all__ = ["load", "from_document", "SPEC_KEYS", "BUILDER_KEYS"]

SPEC_KEYS = ("version", "name", "description", "inputs", "params", "nodes", "loss", "latex")
BUILDER_KEYS = ("mlp", "rnn", "residual", "lstm", "gru", "conv1d", "attention", "batch")


def load(source: str | os.PathLike[str], *, limits: Limits | None = None) -> Spec:
    """Read and check a spec from a path or YAML text.

    >>> spec = load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {y: w*x, E: y^2}")
    >>> spec.loss, list(spec.nodes)
    ('E', ['y', 'E'])
    """
    limits = limits or Limits.from_env()
    try:
        with no_gc():
            doc = read(source, max_bytes=limits.max_bytes,
                       max_items=max(200_000, limits.max_names * 2))
            return from_document(doc, limits=limits)
    except PathgradError as exc:
        raise _with_limit_hint(exc, limits) from None


def _with_limit_hint(exc: PathgradError, limits: Limits) -> PathgradError:
    """`exc`, telling how to raise the limit it hit (if it is about one of `Limits`)."""
    if exc.limit not in LIMIT_ENV or (exc.suggestion and LIMIT_ENV[exc.limit] in exc.suggestion):
        return exc
    hint = f"raise the limit with {LIMIT_ENV[exc.limit]}={getattr(limits, exc.limit) * 2}"
    suggestion = f"{exc.suggestion}, or {hint}" if exc.suggestion else hint
    return type(exc)(exc.message, exc.where, suggestion, exc.excerpt, exc.caret, exc.limit)


def from_document(doc: Document, *, limits: Limits | None = None) -> Spec:
    """Check a read `Document` and build the Spec (expanding builder blocks first)."""
    limits = limits or Limits.from_env()
    data = doc.data
    known = SPEC_KEYS + BUILDER_KEYS
    for key in data:
        if key not in known:
            hint = suggest(str(key), known) or "the keys are " + ", ".join(SPEC_KEYS)
            # the message names the key, so the location is only file and line
            where = Location(doc.source, doc.key_line(key))
            raise SpecError(f"unknown top-level key '{key}'", where, hint)
    version = data.get("version", 1)
    if isinstance(version, bool) or version != 1:
        shown = version if isinstance(version, int | Fraction) and not isinstance(
            version, bool) and len(str(version)) < 20 else kind_of(version)  # '1' is text
        raise SpecError(f"this pathgrad reads spec version 1, found {shown}",
                        doc.where("version", key=False), "write `version: 1` or leave it out")
    builder = None
    meta: dict[str, Any] = {}
    used = [k for k in BUILDER_KEYS if k in data]
    if used:
        builder = used[0]
        check_combination(data, doc)
        # batch: the network inside is checked (and built) first, errors at their lines
        base = from_document(without_batch(doc), limits=limits) if "batch" in data else None
        data, meta = expand(data, doc, base)
    lines: dict[str, int] = {}
    declared: dict[str, str] = {}
    inputs = _leaves(data, "inputs", doc, lines, declared)
    params = _leaves(data, "params", doc, lines, declared)
    raw_nodes = data.get("nodes")
    example = "such as `E: (y - w*x)^2`"
    if raw_nodes is None and "nodes" not in data:
        raise SpecError("the spec has no `nodes:`", Location(doc.source),
                        f"add `nodes:` with lines of name: expression, {example}")
    if raw_nodes is None or (isinstance(raw_nodes, Mapping) and not raw_nodes):
        raise SpecError("is empty", doc.where("nodes"),
                        f"add lines of name: expression under it, {example}")
    if not isinstance(raw_nodes, Mapping):
        raise SpecError(f"must be a mapping of name: expression, found {kind_of(raw_nodes)}",
                        doc.where("nodes"))
    _declare_all(list(raw_nodes), "nodes", doc, lines, declared)
    _check_lookalikes(declared, lines, doc)
    if len(raw_nodes) > limits.max_nodes:
        raise too_many_nodes(len(raw_nodes), "the spec has", Location(doc.source), limits)
    if len(declared) > limits.max_names:
        raise _with_limit_hint(LimitError(
            f"the spec declares {len(declared):,} names; the limit is {limits.max_names:,}",
            Location(doc.source), limit="max_names"), limits)
    texts: dict[str, str] = {}
    uses: dict[str, tuple[str, ...]] = {}  # the names each node's expression uses
    pi = False  # some node uses the constant pi (an undeclared name `pi`)
    if isinstance(raw_nodes, LazyNodes) and _prebuilt_ok(raw_nodes, declared):
        nodes: Mapping[str, g.Expr] = raw_nodes  # a builder's: ASTs made when first read
        uses.update(raw_nodes.uses)
        ordered = True  # and every name it uses is declared: no pi
    else:
        nodes = {name: _expression(name, raw, doc, declared, limits, texts, uses)
                 for name, raw in raw_nodes.items()}
        edges = sum(len(u) for u in uses.values()) - sum(
            "pi" in u for u in uses.values()) * ("pi" not in declared)  # pi: a constant
        if edges > limits.max_edges:
            raise too_many_edges(edges, "the spec has", Location(doc.source), limits)
        ordered = declared_in_order(nodes, uses)
        if not ordered:
            _check_acyclic(nodes, uses, doc, texts)
        pi = "pi" not in declared and any("pi" in u for u in uses.values())
    loss = _loss(data, doc, nodes, declared, uses)
    latex = _latex(data, doc, declared)
    text = data.get("name")
    desc = data.get("description")
    for key, val in (("name", text), ("description", desc)):
        if val is not None and not isinstance(val, str | int | Fraction):
            raise SpecError(f"must be text, found {kind_of(val)}", doc.where(key))
        if isinstance(val, str):
            _printable(val, doc.where(key, key=False), newlines=key == "description")
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
        uses=uses,
    )
    # the DAG, made with what the checks found (cycles are refused above, naming them)
    spec.__dict__["graph"] = Graph(spec, in_order=ordered, constant_pi=pi)
    return spec

def _declare(name: object, section: str, doc: Document, lines: dict, declared: dict,
             index: int | None = None) -> str:
    def where() -> Location:  # built only for an error: most names are fine
        if index is None:
            return doc.where(section, name)  # type: ignore[arg-type]
        return Location(doc.source, doc.line(section, index), None, f"{section}.{name}")

    # the location names the key (params.w), so the messages need not repeat the name
    if not isinstance(name, str) or not name.isidentifier():
        if "(" in str(name) or ")" in str(name):  # {E: max(a, b)}: entries 'E: max(a', 'b)'
            raise SpecError("not a valid name: inside { } a ',' ends an entry", where(),
                            "quote an expression with a comma, as in E: \"max(a, b)\"")
        raise SpecError("not a valid name: use letters, digits and _, not starting with a "
                        "digit", where(), _name_hint(name))
    if name.startswith("__"):
        raise SpecError("names starting with '__' are not allowed", where(),
                        f"try '{name.strip('_') or 'x'}'")
    problem = name_problem(name)
    if problem is not None:
        raise SpecError(problem[0], where(), problem[1])
    if name in g.FUNCTIONS:
        raise SpecError(f"'{name}' is the name of a function", where(),
                        f"choose another name, such as '{name}_' or '{name}1'")
    if name in declared:
        first = lines.get(name)
        at = f" (line {first})" if first else ""
        raise SpecError(f"already declared in `{declared[name]}`{at}; each name is declared "
                        "once", where(), "rename one of them")
    declared[name] = section
    if index is not None:
        line = doc.line(section, index)
    else:
        line = doc.key_line(section, name) if isinstance(doc.data.get(section), Mapping) \
            else None
        if line is None and section in doc.data:  # a builder's name: its block's line
            line = doc.line(section)
    if line is not None:
        lines[name] = line
    return name


_RESERVED = frozenset(keyword.kwlist) | frozenset(g.FUNCTIONS)  # names _declare refuses


def _declare_all(names: Sequence[object], section: str, doc: Document, lines: dict,
                 declared: dict, listed: bool = False) -> None:
    """_declare for every name, in order; `listed`: the section is a list (line per item).

    The usual 10^5 names (ASCII identifiers, none reserved, none declared twice) are checked
    at once with string and set operations; anything else goes name by name through
    _declare, which raises the same first error as ever.
    """
    if not (_plain_names(names, declared)
            and _declare_plain(names, section, doc, lines, declared, listed)):  # type: ignore
        for i, name in enumerate(names):
            _declare(name, section, doc, lines, declared, i if listed else None)


def _declare_plain(names: Sequence[str], section: str, doc: Document, lines: dict,
                   declared: dict, listed: bool = False) -> bool:
    """What _declare does for names _plain_names accepted: record the section and the line.
    False (and nothing recorded) if a name is listed twice: _declare must say which."""
    before = len(declared)
    declared.update(zip(names, repeat(section)))
    if len(declared) != before + len(names):  # a name twice: none of them was declared before
        for name in names:
            declared.pop(name, None)
        return False
    if listed:
        for i, name in enumerate(names):
            line = doc.line(section, i)
            if line is not None:
                lines[name] = line
        return True
    user = doc.data.get(section)
    block = doc.line(section) if section in doc.data else None  # a builder's name: its line
    if isinstance(user, Mapping):
        key_lines = doc.key_lines
        for name in names:
            line = key_lines.get((section, name)) if not doc.aliases else \
                doc.key_line(section, name)  # type: ignore[arg-type]
            if line is None:
                line = block
            if line is not None:
                lines[name] = line
    elif block is not None:
        lines.update(zip(names, repeat(block)))
    return True


def _plain_names(names: Sequence[object], declared: Mapping[str, str]) -> bool:
    """True when _declare would accept each of `names` (given `declared`), unless one is
    listed twice (_declare_plain finds that): ASCII identifiers, no '__' prefix, no keyword or
    function, none declared already."""
    try:
        text = "\n".join(names)  # type: ignore[arg-type]
    except TypeError:  # a name that is not text
        return False
    if not text.isascii() or "\n__" in "\n" + text:  # non-ASCII: name_problem, name by name
        return False
    if not all(map(str.isidentifier, names)):  # type: ignore[arg-type]
        return False
    if _RESERVED.intersection(names):
        return False
    return declared.keys().isdisjoint(names)


def _prebuilt_ok(nodes: LazyNodes, declared: Mapping[str, str]) -> bool:
    """A builder's nodes use only declared names, each only names declared before it (so
    none uses itself, and there is no cycle): what _expression and _check_acyclic check,
    checked on the names alone (no AST is made). False: check node by node instead."""
    uses = nodes.uses
    return all(map(declared.__contains__, chain.from_iterable(uses.values()))) and \
        declared_in_order(nodes, uses)


def _check_lookalikes(declared: Mapping[str, str], lines: Mapping[str, int],
                      doc: Document) -> None:
    """Refuse two names that print alike (Latin a and Cyrillic а); only non-ASCII names can."""
    seen: dict[str, str] = {}
    if "".join(declared).isascii():
        return  # only non-ASCII names can look like others
    for name in (n for n in declared if not n.isascii()):
        like = skeleton(name)
        twin = like if like in declared and like != name else seen.get(like)
        if twin is not None:
            first, second = sorted((twin, name), key=lambda n: lines.get(n) or 0)
            at = f" (line {lines[first]})" if first in lines else ""
            raise SpecError(f"{code_points(second)} looks like the name {code_points(first)}"
                            f"{at} when printed", doc.where(declared[second], second),
                            "rename one of them")
        seen[like] = name


def _leaves(data: Mapping, section: str, doc: Document, lines: dict,
            declared: dict) -> dict[str, Fraction | None]:
    raw = data.get(section)
    if raw is None:
        return {}
    if isinstance(raw, list):
        if _plain_names(raw, declared) and _declare_plain(raw, section, doc, lines, declared,
                                                          listed=True):
            return dict.fromkeys(raw)
        out: dict[str, Fraction | None] = {}
        for i, name in enumerate(raw):
            if not isinstance(name, str):
                raise SpecError(f"item {i + 1} of the list is {kind_of(name)}, not a name",
                                Location(doc.source, doc.line(section, i), None, section))
            _declare(name, section, doc, lines, declared, i)
            out[name] = None
        return out
    if not isinstance(raw, Mapping):
        raise SpecError(f"must be a mapping (name: value) or a list of names, found "
                        f"{kind_of(raw)}", doc.where(section))
    names = list(raw)  # (a mapping holds no name twice)
    plain = _plain_names(names, declared) and _declare_plain(names, section, doc, lines,
                                                             declared)
    if plain:  # then no name is refused, and the first error (if any) is a value's
        if _plain_values(raw.values()):
            return dict(raw)  # what parse_value returns for each: the same Fraction, or None
    out = {}
    for name, value in raw.items():
        if not plain:
            _declare(name, section, doc, lines, declared)
        try:
            out[name] = parse_value(value)
        except ValueError as exc:
            hint = "a value is a number such as 0.5, -2 or 1/3, or null for none" \
                if "too large" not in str(exc) else None
            raise SpecError(f"{exc}", doc.where(section, name, key=False), hint) from None
    return out


def _plain_values(values: Iterable[object]) -> bool:
    """True when parse_value(v) is v for every value: Fractions in range, or None. A builder's
    10^5 initialized values are a few thousand distinct objects, each checked once."""
    values = list(values)
    if not {type(v) for v in values} <= {Fraction, type(None)}:
        return False
    distinct = dict(zip(map(id, values), values))
    return all(v is None or magnitude_problem(v) is None  # type: ignore[arg-type]
               for v in distinct.values())


def _name_hint(name: object) -> str | None:
    """A valid name close to an invalid one: '1w' → 'w1', 'my w' → 'my_w'."""
    text = str(name)
    fixed = "".join(ch if ("a" + ch).isidentifier() else "_" for ch in text).strip("_")
    if fixed[:1].isdigit():
        digits = len(fixed) - len(fixed.lstrip("0123456789"))
        fixed = fixed[digits:].lstrip("_") + fixed[:digits]
    return f"try '{fixed}'" if fixed.isidentifier() and not fixed.startswith("__") else None


def _printable(text: str, where: Location, newlines: bool = False) -> None:
    """Refuse control characters: printed, they could clear or rewrite the terminal."""
    for i, ch in enumerate(text):
        if not ch.isprintable() and ch != " " and not (newlines and ch in "\n\t"):
            raise SpecError(f"contains the control character {ch!r} at character {i + 1}",
                            where, "remove it")


def _expression(name: str, raw: object, doc: Document, declared: Mapping[str, str],
                limits: Limits, texts: dict[str, str], uses: dict[str, tuple[str, ...]]
                ) -> g.Expr:
    def where() -> Location:  # built only for an error
        return doc.where("nodes", name, key=False)

    if isinstance(raw, g.Num | g.Name | g.Neg | g.BinOp | g.Call):
        expr = raw  # a builder's ready-made AST: its text is made only if an error needs it
        text = ""
    else:
        if raw is None or raw == "":
            raise SpecError("no expression", where(), "write one such as 'w*x + b'")
        if isinstance(raw, bool) or not isinstance(raw, str | int | Fraction):
            raise SpecError(f"must be an expression, found {kind_of(raw)}", where(),
                            "write one such as 'w*x + b'")
        text = raw if isinstance(raw, str) else g.to_text(g.Num(Fraction(raw), 0))
        try:
            expr = g.parse(text, max_length=limits.max_expression_chars,
                           max_depth=limits.max_depth)
        except ExpressionError as exc:
            raise _with_limit_hint(ExpressionError(exc.message, where(), exc.suggestion,
                                                   exc.excerpt, exc.caret, exc.limit),
                                   limits) from None
    if text:
        texts[name] = text
    names = uses[name] = g.free_names(expr)
    if name not in names and all(n in declared or n == "pi" for n in names):
        return expr  # the usual case; otherwise find the first bad use and its column
    for ref in _names_with_columns(expr):
        if ref.id == name:
            raise GraphError("a node cannot use itself", where(),
                             "compute it from other names", text or None,
                             ref.col if text else None)
        if ref.id in declared or ref.id == "pi":
            continue
        if ref.id in g.FUNCTIONS:
            hint = f"call it as {ref.id}(...)"
            msg = f"'{ref.id}' is a function, not a value"
        else:
            like = skeleton(ref.id)
            twin = next((n for n in declared if skeleton(n) == like), None) \
                if not ref.id.isascii() else None
            hint = (f"did you mean {code_points(twin)}?" if twin else suggest(ref.id, declared)) \
                or "declare it under `inputs`, `params` or `nodes`"
            msg = f"unknown name {code_points(ref.id)}"
        raise ExpressionError(msg, where(), hint, text or None, ref.col if text else None)
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


def _check_acyclic(nodes: Mapping[str, g.Expr], uses: Mapping[str, tuple[str, ...]],
                   doc: Document, texts: Mapping[str, str]) -> None:
    """Refuse a cycle among the nodes, naming it as a student reads it: a uses b, b uses a."""
    uses = {n: [u for u in uses[n] if u in nodes] for n in nodes}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in nodes:
        if root in state:
            continue
        path, stack = [root], [iter(uses[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                _cycle_error(path[path.index(nxt):], nodes, doc, texts)
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(uses[nxt]))


def _cycle_error(cycle: list[str], nodes: Mapping[str, g.Expr], doc: Document,
                 texts: Mapping[str, str]) -> None:
    order = {n: i for i, n in enumerate(nodes)}
    start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
    cycle = cycle[start:] + cycle[:start]  # begin at the node written first in the file
    links = [f"{a} uses {b}" for a, b in zip(cycle, cycle[1:] + cycle[:1])]
    shown = ", ".join(links) if len(links) <= 8 else \
        ", ".join(links[:6]) + f", … ({len(links)} nodes), " + links[-1]
    first, second = cycle[0], cycle[1 % len(cycle)]
    text = texts.get(first)
    col = next((r.col for r in _names_with_columns(nodes[first]) if r.id == second), None)
    raise GraphError(f"the nodes form a cycle: {shown}", doc.where("nodes", first, key=False),
                     "a network must be a DAG: remove one of these uses", text,
                     col if text else None)


def _loss(data: Mapping, doc: Document, nodes: Mapping[str, g.Expr],
          declared: Mapping[str, str], uses: Mapping[str, tuple[str, ...]]) -> str:
    loss = data.get("loss")
    if loss is not None:
        if not isinstance(loss, str):
            raise SpecError(f"must name a node, found {kind_of(loss)}", doc.where("loss"))
        if loss not in nodes:
            if loss in declared:
                raise SpecError(f"'{loss}' is in `{declared[loss]}`, but the loss must be a "
                                "node", doc.where("loss"), "the nodes are " + _few(nodes))
            raise SpecError(f"'{loss}' is not a node", doc.where("loss"),
                            suggest(loss, nodes) or "the nodes are " + _few(nodes))
        return loss
    used = {u for names in uses.values() for u in names}
    sinks = [n for n in nodes if n not in used]
    if len(sinks) == 1:
        return sinks[0]
    if not sinks:
        return list(nodes)[-1]  # a cycle; the graph check names it
    raise SpecError(f"no `loss:` given and {len(sinks):,} nodes are used by no other node "
                    f"({_few(sinks)}); say which one is the loss", Location(doc.source),
                    f"add `loss: {sinks[-1]}`")


def _few(names: Mapping[str, object] | list[str], n: int = 6) -> str:
    items = list(names)
    return ", ".join(items[:n]) + (", …" if len(items) > n else "")


def _latex(data: Mapping, doc: Document, declared: Mapping[str, str]) -> Mapping[str, str]:
    raw = data.get("latex")
    if raw is None:
        return {}
    if isinstance(raw, LazyLatex):
        # a builder's display names (each checked when first read) under the user's own,
        # checked here; should one be refused, check in the merged order as ever
        try:
            return raw.with_overrides(_latex({"latex": raw.overrides}, doc, declared),
                                      doc.source)
        except SpecError:
            raw = dict(raw.items())
    if not isinstance(raw, Mapping):
        raise SpecError(f"must map names to LaTeX, found {kind_of(raw)}", doc.where("latex"))
    out = {}
    for name, tex in raw.items():
        if name not in declared:
            raise SpecError("not a declared name", doc.where("latex", name),
                            suggest(str(name), declared) or "`latex` gives display names of "
                            "inputs, params and nodes")
        if not isinstance(tex, str | int | Fraction):
            raise SpecError(f"must be LaTeX text, found {kind_of(tex)}",
                            doc.where("latex", name, key=False))
        problem = tex_problem(str(tex))
        if problem is not None:
            raise SpecError(f"not a display name pathgrad can typeset safely: {problem}",
                            doc.where("latex", name, key=False),
                            "use letters, digits, _ ^ { } and macros such as \\hat, "
                            "\\mathrm or Greek letters, e.g. 'w_{1,1}'")
        out[name] = str(tex)
    return out
