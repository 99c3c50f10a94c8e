"""`pathgrad exercise -o FILE.json`. The keys are a contract: `{"weight", "variants": [{"seed",
"values": {leaf: number as printed}, "answers": {"paths": [{"nodes", "factors": [str …],
"factor_values": [float …], "value"}], "gradient"}}]}`; extra keys only extend it."""

from __future__ import annotations

from typing import Any

from ..analyses.exercise import Exercise, points
from .exercise_text import exact
from .notation import Notation

__all__ = ["exercise"]


def exercise(ex: Exercise) -> dict[str, Any]:
    """Every variant with its values and its key, as JSON-ready data."""
    note = Notation(ex.spec)
    variants = []
    for v in ex.variants:
        paths = [{"nodes": list(p.nodes), "factors": [note.plain(f) for f in p.factors],
                  "factor_values": list(p.factor_values), "value": p.value,
                  "chain": " · ".join(f"∂{b}/∂{a}" for a, b in
                                      reversed(list(zip(p.nodes, p.nodes[1:]))))}
                 for p in v.paths]
        variants.append({
            "seed": v.seed,
            "values": {n: float(x) for n, x in v.values.items()},
            "answers": {"paths": paths, "gradient": v.gradient},
            "variant": v.number,
            "varied": list(v.varied),
            "values_text": {n: exact(x) for n, x in v.values.items()},
            "points": points(v.paths, ex.blank),
            "verified": bool(v.explanation.verified),
        })
    return {"weight": ex.weight, "variants": variants, "loss": ex.loss, "seed": ex.seed,
            "blank": list(ex.blank), "spec": ex.spec.source}
