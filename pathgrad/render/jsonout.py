"""JSON for tools. The keys are a contract: extend them, never rename or reshape them.

Every key of every command's JSON is written here (or by the per-analysis helpers this module
calls: toppaths_json, backprop_json, routes_json), never added by the command line.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import toppaths_json

if TYPE_CHECKING:
    from ..analyses.explanation import Explanation
    from ..analyses.lengths import LengthDistribution
    from ..analyses.toppaths import TopPaths
    from ..spec import Spec

__all__ = ["explanation", "spec_summary", "top_paths", "dumps", "DIRECT_TREE_LIMIT"]

DIRECT_TREE_LIMIT = 20_000  # beyond this the leaves-only derivative is written in node names
SHOW_VALUES_LIMIT = 20_000  # `show --format json` has node_values for specs up to this size


def _num(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def _extras(out: dict[str, Any], lengths: LengthDistribution | None, routes: Any) -> None:
    if lengths is not None:
        out["path_lengths"] = toppaths_json.path_lengths(lengths)
    if routes is not None:
        from .routes_json import route_json

        out["path_routes"] = route_json(routes)


def explanation(ex: Explanation, lengths: LengthDistribution | None = None,
                routes: Any = None, simplify: bool = True) -> dict[str, Any]:
    """The contract: weight, loss, path_count, paths[nodes, factors, term, value, share],
    sum, direct, value, verified, method; plus extra keys for people and tools, among them
    the forms shown to people: paths[factors_simplified] and direct_simplified (sympy's
    forms stay under factors and direct)."""
    # sympy loads here, not with the module: `show --format json` needs none of it
    from ..calculus import tree_size
    from .notation import Notation
    from .readable import readable

    note = Notation(ex.spec)
    read = readable(ex) if simplify else None
    in_leaves = ex.direct_in_leaves and \
        tree_size(ex.direct, DIRECT_TREE_LIMIT) <= DIRECT_TREE_LIMIT
    printed: dict[int, str] = {}  # each edge's partial is shared by many paths: print it once

    def once(expr: Any) -> str:
        if id(expr) not in printed:
            printed[id(expr)] = note.plain(expr)
        return printed[id(expr)]

    paths = []
    terms = []
    for p in ex.paths:
        terms.append(note.plain(p.term))
        item: dict[str, Any] = {
            "nodes": list(p.nodes),
            "factors": [once(f) for f in p.factors],
            "term": terms[-1],
            "value": _num(p.value),
            "share": _num(p.share),
            "chain": p.chain,
            "factors_simplified": [once(read.factor(f)) if read else once(f)
                                   for f in p.factors],
            "value_exact": p.exact,  # the value as an exact rational string, or null
        }
        if p.note:
            item["note"] = p.note
        group = (ex.spec.meta.get("groups") or {}).get(p.nodes[1]) if len(p.nodes) > 1 else None
        if group is not None:
            item["group"] = group
        paths.append(item)
    out: dict[str, Any] = {
        "weight": ex.weight,
        "loss": ex.loss,
        "path_count": int(ex.path_count),
        "paths": paths,
        # the path terms joined: the same sum as ex.sum, without printing every term twice
        "sum": " + ".join(terms).replace(" + -", " - ") if terms else note.plain(ex.sum),
        "direct": once(ex.direct) if in_leaves else once(ex.direct_names),
        "value": _num(ex.value),
        "verified": bool(ex.verified),
        "method": ex.verification.method,
        "direct_form": "leaves" if in_leaves else "node names",
        "direct_names": once(ex.direct_names),
        "verification": {
            "detail": ex.verification.detail,
            "error_bound": ex.verification.error_bound,
        },
        "values": {k: _num(v) for k, v in ex.values.items()},
        "node_values": {k: _num(v) for k, v in ex.node_values.items()},
        # exact rationals as strings ("0", "-3/25"); null where a value is not rational
        "value_exact": ex.value_exact,
        "node_values_exact": dict(ex.node_values_exact),
    }
    # the direct derivative as shown to people: simplified and proved equal (null: as sympy's)
    out["direct_simplified"] = once(read.direct) if read and read.direct is not None else None
    if ex.value_note:
        out["value_note"] = ex.value_note
    if ex.node_notes:
        out["node_notes"] = dict(ex.node_notes)  # why a node value is null
    _extras(out, lengths, routes)
    return out


def top_paths(tp: TopPaths, lengths: LengthDistribution | None = None,
              routes: Any = None) -> dict[str, Any]:
    """`explain --top K`: toppaths_json's keys, path_lengths, path_routes."""
    out = toppaths_json.top_paths(tp)
    _extras(out, lengths, routes)
    return out


def spec_summary(spec: Spec, lengths: LengthDistribution | None = None,
                 routes: Any = None) -> dict[str, Any]:
    """`pathgrad show` as data: inputs, params, nodes, loss, path_counts, node_values (at the
    spec's point), path_lengths, path_routes."""
    counts = spec.graph.path_counts(spec.loss)
    out: dict[str, Any] = {
        "name": spec.name,
        "inputs": {k: _num(v) for k, v in spec.inputs.items()},
        "params": {k: _num(v) for k, v in spec.params.items()},
        "nodes": {k: spec.text(k) for k in spec.nodes},
        "loss": spec.loss,
        "path_counts": {k: int(counts[k]) for k in [*spec.params, *spec.inputs]},
    }
    if len(spec.nodes) <= SHOW_VALUES_LIMIT:
        from .numbers import float_values

        out["node_values"] = float_values(spec, spec.values())
    _extras(out, lengths, routes)
    return out


def dumps(data: dict[str, Any]) -> str:
    """JSON text with a trailing newline; non-ASCII kept readable. The same text as
    json.dumps(data, indent=2, ensure_ascii=False), written faster: a dict or list of plain
    values (300k params' values) goes to json's C encoder in one call, with the indented
    separators; the pure-Python indenting encoder spends about a microsecond per value."""
    return _pretty(data, 0) + "\n"


_STRING = json.encoder.encode_basestring  # json's own (C) string encoder, as ensure_ascii=False
_LITERAL = {None: "null", True: "true", False: "false"}
_CONTAINERS = (dict, list, tuple)


def _scalar(x: Any) -> str:
    """json.dumps(x, ensure_ascii=False) of a string, None, bool or int, without its Python
    overhead (10⁴ paths: 150k values); anything else goes to json.dumps."""
    t = type(x)
    if t is str:
        return _STRING(x)
    if t is int:
        return int.__repr__(x)
    if t is float and x - x == 0:  # finite: json writes float.__repr__
        return float.__repr__(x)
    if x is None or t is bool:
        return _LITERAL[x]
    return json.dumps(x, ensure_ascii=False)


# a flat container longer than this goes to json's C encoder in one call; a shorter one (a
# path's nodes and factors, 10⁴ times) is joined here: json.dumps with separators builds a
# new encoder for each call
_SHORT = 64


def _pretty(x: Any, level: int) -> str:
    if isinstance(x, dict):
        items, open_, close = x.values(), "{", "}"
    elif isinstance(x, (list, tuple)):
        items, open_, close = x, "[", "]"
    else:
        return _scalar(x)
    if not x:
        return open_ + close
    pad = "\n" + "  " * (level + 1)
    end = "\n" + "  " * level + close
    if not any(isinstance(v, _CONTAINERS) for v in items):
        if len(x) > _SHORT:
            flat = json.dumps(x, ensure_ascii=False, separators=("," + pad, ": "))
            return open_ + pad + flat[1:-1] + end
        if open_ == "[":
            return open_ + pad + ("," + pad).join(map(_scalar, x)) + end
        return open_ + pad + ("," + pad).join(
            [f"{_key(k)}: {_scalar(v)}" for k, v in x.items()]) + end
    deeper = level + 1
    if open_ == "[":
        parts = [_pretty(v, deeper) for v in x]
    else:  # a path's entries: scalars written directly, keys that are strings too
        parts = [f"{_STRING(k) if type(k) is str else _key(k)}: "
                 f"{_pretty(v, deeper) if isinstance(v, _CONTAINERS) else _scalar(v)}"
                 for k, v in x.items()]
    return open_ + pad + ("," + pad).join(parts) + end


def _key(k: Any) -> str:
    """A dict key as json writes it: strings as they are, True/None/numbers as their JSON text."""
    if not isinstance(k, str):
        k = json.dumps({k: 0})[1:-4].strip('"')  # json's own conversion of a non-string key
    return _STRING(k)
