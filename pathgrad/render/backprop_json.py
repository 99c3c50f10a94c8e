"""`pathgrad backprop --format json`: the rows and the cost comparison as data.

Counts are exact integers (JSON numbers of any size); values are floats or null.
"""

from __future__ import annotations

from typing import Any

from ..analyses.backprop import Backprop
from .backprop_table import formula, ordered_steps
from .notation import Notation

__all__ = ["backprop"]


def backprop(bp: Backprop) -> dict[str, Any]:
    """weight, loss, mode, value, path_count, path_sum, listed, agrees, the cost counts, and
    steps[node, formula, terms[node, factor, factor_value], value, paths]."""
    note = Notation(bp.spec)
    steps = []
    for step in ordered_steps(bp):
        item: dict[str, Any] = {
            "node": step.node,
            "formula": formula(bp, step, note),
            "terms": [{"node": t.other,
                       "factor": None if t.factor is None else note.plain(t.factor),
                       "factor_value": t.factor_value} for t in step.terms],
            "value": step.value,
            "paths": int(step.paths),
        }
        if step.note:
            item["note"] = step.note
        steps.append(item)
    out: dict[str, Any] = {
        "weight": bp.weight,
        "loss": bp.loss,
        "mode": bp.mode,
        "value": bp.value,
        "path_count": int(bp.path_count),
        "path_sum": bp.path_sum,
        "listed": bp.listed,
        "agrees": bp.agrees,
        "multiplications": bp.multiplications,
        "additions": bp.additions,
        "listing_multiplications": int(bp.listing_multiplications),
        "listing_additions": int(bp.listing_additions),
        "steps": steps,
        "values": {k: None if v is None else float(v) for k, v in bp.values.items()},
    }
    if bp.note:
        out["note"] = bp.note
    return out
