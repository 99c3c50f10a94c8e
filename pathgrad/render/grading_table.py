"""`pathgrad check` for the student: one block per path given, then what is missing, the
gradient and the score. Plain rich Text, so '[z > 0]' in an expression is never markup."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.grading import Grade
from ..errors import printable
from . import grading_text as gt
from .notation import Notation

__all__ = ["grade"]

_MARK = {"correct": ("✓", "green"), "wrong": ("✗", "red"), "not-a-path": ("✗", "red"),
         "duplicate": ("✗", "red"), "missing": ("·", "yellow")}


def _line(mark: str, text: str, indent: int = 0) -> RenderableType:
    """`✓ text` with a hanging indent: a long message wraps under its own first word."""
    symbol, style = _MARK[mark]
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(width=indent + 1, no_wrap=True)
    grid.add_column()
    grid.add_row(Text(" " * indent + symbol, style=style), Text(text))
    return grid


def grade(g: Grade) -> RenderableType:
    """The grade as lines a student reads top to bottom."""
    note = Notation(g.spec)
    n = g.explanation.path_count
    head = (f"Checking {printable(g.source)}: ∂{g.loss}/∂{g.weight} over {n} "
            f"path{'s' if n != 1 else ''} (numbers within {g.tolerance * 100:.3g} %)")
    lines: list[RenderableType] = [Text(head, style="bold")]
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
