"""`pathgrad check` for the student: one block per path given, then what is missing, the
gradient and the score. Plain rich Text, so '[z > 0]' in an expression is never markup."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from ..analyses.grading import Grade
from ..errors import printable
from . import grading_text as gt
from .notation import Notation

__all__ = ["grade"]

_MARK = {"correct": ("✓", "green"), "wrong": ("✗", "red"), "not-a-path": ("✗", "red"),
         "duplicate": ("✗", "red"), "missing": ("·", "yellow")}


def _line(mark: str, text: str, indent: int = 0) -> Text:
    symbol, style = _MARK[mark]
    out = Text(" " * indent)
    out.append(symbol, style=style)
    out.append(" " + text)
    return out


def grade(g: Grade) -> RenderableType:
    """The grade as lines a student reads top to bottom."""
    note = Notation(g.spec)
    lines: list[Text] = [Text(f"Checking {printable(g.source)}: ∂{g.loss}/∂{g.weight} over "
                              f"{g.explanation.path_count} path"
                              f"{'s' if g.explanation.path_count != 1 else ''} "
                              f"(numbers within {g.tolerance * 100:.3g} %)", style="bold")]
    for p in g.paths:
        lines.append(Text(""))
        head = Text(f"{p.position + 1}. ", style="bold")
        head.append(gt.route(p.nodes))
        if p.line is not None:
            head.append(f"  (line {p.line})", style="dim")
        lines.append(head)
        lines.append(_line(p.status, gt.path_message(p, g), 3))
        for f in p.factors:
            if f.status != "missing" or p.factors and any(
                    x.status != "missing" for x in p.factors):
                lines.append(_line(f.status, gt.factor_message(f, note), 5))
        if p.status in ("correct", "wrong") and p.value.status in ("correct", "wrong",
                                                                    "missing"):
            lines.append(_line(p.value.status, gt.value_message(p.value, p), 5))
    if g.missing:
        lines.append(Text(""))
        for nodes in g.missing:
            lines.append(_line("wrong", gt.missing_message(nodes, g)))
    if g.gradient is not None:
        lines.append(Text(""))
        lines.append(_line(g.gradient.status, gt.gradient_message(g.gradient, g)))
    lines.append(Text(""))
    lines.append(Text(gt.score_line(g), style="bold green" if g.correct else "bold"))
    return Group(*lines)
