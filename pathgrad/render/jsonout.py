"""JSON for tools. The keys are a contract: extend them, never rename or reshape them."""

from __future__ import annotations

import json
from typing import Any

from ..analyses.explanation import Explanation
from ..calculus import tree_size
from ..spec import Spec
from .notation import Notation

__all__ = ["explanation", "spec_summary", "dumps", "DIRECT_TREE_LIMIT"]

DIRECT_TREE_LIMIT = 20_000  # beyond this the leaves-only derivative is written in node names


def _num(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def explanation(ex: Explanation) -> dict[str, Any]:
    """The contract: weight, loss, path_count, paths[nodes, factors, term, value, share],
    sum, direct, value, verified, method; plus extra keys for people and tools."""
    note = Notation(ex.spec)
    in_leaves = tree_size(ex.direct, DIRECT_TREE_LIMIT) <= DIRECT_TREE_LIMIT
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
    }
    if ex.value_note:
        out["value_note"] = ex.value_note
    if ex.node_notes:
        out["node_notes"] = dict(ex.node_notes)  # why a node value is null
    return out


def spec_summary(spec: Spec) -> dict[str, Any]:
    """`pathgrad show` as data: inputs, params, nodes, loss, path_counts."""
    counts = spec.graph.path_counts(spec.loss)
    return {
        "name": spec.name,
        "inputs": {k: _num(v) for k, v in spec.inputs.items()},
        "params": {k: _num(v) for k, v in spec.params.items()},
        "nodes": {k: spec.text(k) for k in spec.nodes},
        "loss": spec.loss,
        "path_counts": {k: int(counts[k]) for k in [*spec.params, *spec.inputs]},
    }


def dumps(data: dict[str, Any]) -> str:
    """JSON text with a trailing newline; non-ASCII kept readable."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
