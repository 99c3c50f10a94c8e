"""JSON for `explain --top K` and for path-length distributions.

`top_paths` keeps explain's keys for what they share (weight, loss, path_count, paths[nodes,
factors, term, value, share, chain], value) and adds its own; counts are exact integers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analyses.lengths import LengthDistribution
    from ..analyses.toppaths import TopPaths

__all__ = ["top_paths", "path_lengths"]


def top_paths(tp: TopPaths) -> dict[str, Any]:
    """weight, loss, path_count, top, paths[…], value, covered, share, mass_share, …"""
    from .notation import Notation  # sympy: only for top paths, not for `show`

    note = Notation(tp.spec)
    paths = []
    for p in tp.paths:
        paths.append({
            "nodes": list(p.nodes),
            "factors": [note.plain(f) for f in p.factors],
            "term": note.plain(p.term),
            "value": p.value,
            "share": p.share,
            "chain": p.chain,
        })
    return {
        "weight": tp.weight,
        "loss": tp.loss,
        "path_count": int(tp.path_count),
        "top": tp.k,
        "paths": paths,
        "value": tp.value,
        "method": "reverse-mode",
        "method_detail": tp.method,
        "covered": tp.covered,
        "share": tp.share,
        "mass_share": tp.mass_share,
        "nonzero_count": int(tp.nonzero_count),
        "zero_filled": tp.zero_filled,
        "values": {k: None if v is None else float(v) for k, v in tp.values.items()},
    }


def path_lengths(dist: LengthDistribution) -> dict[str, Any]:
    """source (or sources_kind), target, total, gradient, lengths[length, paths, value, share]."""
    out: dict[str, Any] = {
        "target": dist.target,
        "total": int(dist.total),
        "lengths": [{"length": b.length, "paths": int(b.paths), "value": b.value,
                     "share": b.share} for b in dist.bins],
    }
    if dist.source is not None:
        out["source"] = dist.source
        out["gradient"] = dist.gradient
    else:
        out["sources"] = dist.sources_kind
    if dist.note:
        out["note"] = dist.note
    return out
