"""`pathgrad check --format json`. The keys are a contract: `{"weight", "correct", "paths":
[{"nodes", "status", "factors": [{"index", "status", "expected", "given"}], "value":
{"status", "expected", "given"}}], "missing", "gradient", "score": {"earned", "possible"}}`;
extra keys (messages, values of expressions, lines) only extend it."""

from __future__ import annotations

from typing import Any

from ..analyses.grading import FactorGrade, Grade
from . import grading_text as gt
from .notation import Notation

__all__ = ["grade"]


def _factor(f: FactorGrade, note: Notation) -> dict[str, Any]:
    symbolic = f.given is not None and f.given.symbolic
    expression = note.plain(f.expected)
    given: Any = None
    if f.given is not None:
        given = f.given.text if symbolic else float(f.given.number)  # type: ignore[arg-type]
    return {
        "index": f.index,
        "status": f.status,
        # an expression is compared with the expression, a number with the number
        "expected": expression if symbolic else f.expected_value,
        "given": given,
        "edge": [f.u, f.v],
        "expected_expression": expression,
        "expected_value": f.expected_value,
        "given_value": f.given_value,
        "reason": f.reason,
        "method": f.method,
        "message": gt.factor_message(f, note),
    }


def grade(g: Grade) -> dict[str, Any]:
    """The grade as JSON-ready data."""
    note = Notation(g.spec)
    paths = []
    for p in g.paths:
        item: dict[str, Any] = {
            "nodes": list(p.nodes),
            "status": p.status,
            "factors": [_factor(f, note) for f in p.factors],
            "value": {"status": p.value.status, "expected": p.value.expected,
                      "given": p.value.given, "reason": p.value.reason,
                      "from_factors": p.value.from_factors},
            "message": gt.path_message(p, g),
            "line": p.line,
            "path_number": p.number,
        }
        if p.status in ("correct", "wrong"):
            item["value"]["message"] = gt.value_message(p.value, p)
        if p.bad_edge is not None:
            item["missing_edge"] = list(p.bad_edge)
        if p.duplicate_of is not None:
            item["duplicate_of"] = p.duplicate_of
        if p.reversed_factors:
            item["factors_reversed"] = True
        paths.append(item)
    gradient = None
    if g.gradient is not None:
        gradient = {"status": g.gradient.status, "expected": g.gradient.expected,
                    "given": g.gradient.given, "reason": g.gradient.reason,
                    "your_sum": g.gradient.your_sum,
                    "message": gt.gradient_message(g.gradient, g)}
    return {
        "weight": g.weight,
        "correct": bool(g.correct),
        "paths": paths,
        "missing": [list(m) for m in g.missing],
        "gradient": gradient,
        "score": {"earned": int(g.earned), "possible": int(g.possible)},
        "loss": g.loss,
        "tolerance": g.tolerance,
        "missing_messages": [gt.missing_message(m, g) for m in g.missing],
    }
