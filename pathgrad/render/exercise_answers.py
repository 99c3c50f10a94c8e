"""`pathgrad exercise --answers-template`: the ANSWERS.yaml a student fills in for one
variant, so `pathgrad check SPEC answers.yaml` grades it at that variant's values."""

from __future__ import annotations

import json

from ..analyses.exercise import Exercise
from .exercise_text import exact, regenerate

__all__ = ["template"]


def _name(n: str) -> str:
    return json.dumps(n, ensure_ascii=False)  # a YAML flow scalar that is always safe


def template(ex: Exercise, source: str | None = None) -> str:
    """The skeleton for the first variant: its values, one entry per path (the nodes filled
    in unless the paths are the question), factors and values to fill in."""
    v = ex.variants[0]
    spec = source or ex.spec.source
    lines = [
        f"# Answers for ∂{ex.loss}/∂{ex.weight}, variant with seed {v.seed}.",
        f"# The sheet: {regenerate(ex, v, source)} -o sheet.pdf",
        "# Fill in the blanks, then run:",
        f"#   pathgrad check {spec} THIS_FILE",
        "# factors[i] is ∂nodes[i+1]/∂nodes[i], weight side first: a number such as 0.235 or an",
        "# expression in the network's names in quotes, such as \"w21*a11*(1 - a11)\".",
        f"weight: {_name(ex.weight)}",
        "values: {" + ", ".join(f"{_name(n)}: {exact(x)}" for n, x in v.values.items()) + "}",
        "paths:",
    ]
    asked = "paths" in ex.blank
    for p in v.paths:
        if asked:
            lines.append(f"  - nodes: []            # the names along a path: {ex.weight} first, "
                         f"{ex.loss} last")
        else:
            lines.append("  - nodes: [" + ", ".join(_name(n) for n in p.nodes) + "]")
        lines.append("    factors: []          # one per edge")
        lines.append("    value: null          # the product along the path")
        if asked:
            break  # one entry to copy: the number of paths is part of the question
    lines.append("gradient: null           # the sum over the paths")
    return "\n".join(lines) + "\n"
