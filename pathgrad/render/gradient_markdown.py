"""`pathgrad gradient --format markdown`: the gradient and the descent steps as
GitHub-flavoured tables."""

from __future__ import annotations

from ..analyses.gradient import Gradient
from .gradient_table import (
    GROUPED_NOTE,
    MAX_STEP_ROWS,
    _shown_steps,
    count_span,
    is_grouped,
    missing_notes,
    number,
    param_groups,
    span,
)
from .markdown import cell, text

__all__ = ["render"]


def _table(gr: Gradient, loss: str) -> list[str]:
    """A row per param, or (as `show`, for big specs) a row per name pattern."""
    if is_grouped(gr):
        out = [f"{len(gr.spec.params):,} {text(GROUPED_NOTE)}:", "",
               f"| params | how many | ∂{loss}/∂p from … to | largest \\|∂{loss}/∂p\\| | "
               f"paths to {loss} |", "|:--|--:|--:|--:|--:|"]
        groups = param_groups(gr)
        for g in groups:
            top = "—" if g.top is None else f"{number(g.top_value)} ({cell(g.top)})"
            out.append(f"| {cell(g.pattern)} | {g.count:,} | {span(g.low, g.high, 9)} | {top} | "
                       f"{count_span(g.paths_low, g.paths_high)} |")
        missing = missing_notes(groups)
        return [*out, *([""] + [f"- {text(line)}" for line in missing] if missing else [])]
    out = [f"| param | value | ∂{loss}/∂param | paths to {loss} |", "|:--|--:|--:|--:|"]
    for p in gr.spec.params:
        v = gr.values.get(p)
        g = gr.gradient.get(p)
        out.append(f"| {cell(p)} | {number(None if v is None else float(v))} | "
                   f"{number(g) if g is not None else cell(gr.notes.get(p, '—'))} | "
                   f"{gr.paths.get(p, 0):,} |")
    return out


def render(gr: Gradient) -> str:
    """The gradient table, the verdict, the steps."""
    loss = text(gr.loss)
    out = [f"## ∂{loss}/∂p for every param p", ""]
    if gr.spec.name:
        out += [f"**{text(gr.spec.name)}**", ""]
    out += [f"{loss} = {number(gr.value)} at the point. Reverse mode: one sweep from {loss} back "
            "to every param; each δ is the sum over every path from its name.", "",
            *_table(gr, loss)]
    v = gr.verification
    out += ["", (f"✓ **verified**: {text(v.detail)}" if gr.verified
                 else f"✗ **NOT VERIFIED**: {text(v.detail)}"), ""]
    if gr.steps:
        first = gr.steps[0]
        k, n = len(gr.steps), len(gr.update)
        shown = _shown_steps(k)
        out += [f"### Gradient descent: η = {first.lr:g}, {k} step{'s' * (k != 1)}, updating "
                f"{n:,} param{'s' * (n != 1)}", "",
                "| param | before | ∂" + loss + "/∂p | "
                + " | ".join(f"after step {i + 1}" for i in shown) + " |",
                "|:--|--:|--:|" + "--:|" * len(shown)]
        if n <= MAX_STEP_ROWS:
            for p in gr.update:
                v0 = gr.values.get(p)
                out.append(f"| {cell(p)} | {number(None if v0 is None else float(v0))} | "
                           f"{number(first.gradient.get(p))} | "
                           + " | ".join(number(gr.steps[i].params[p]) for i in shown) + " |")
        out.append(f"| **loss {loss}** | {number(first.loss_before)} | | "
                   + " | ".join(number(gr.steps[i].loss_after) for i in shown) + " |")
        out.append("")
    return "\n".join(out) + "\n"
