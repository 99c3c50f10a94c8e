"""`pathgrad gradient --format html`: one self-contained page (nothing loaded from the network)
with the gradient table (grouped by name pattern for big specs, as `show`), the verdict and
the gradient-descent steps. Well-formed XML as well as HTML; everything inside one
`<div class="pathgrad">`, so it also displays inside Jupyter."""

from __future__ import annotations

import html as _html

from ..analyses.gradient import Gradient
from . import gradient_table as gt
from .html import CSS
from .matrix_html import EXTRA_CSS, page

__all__ = ["render", "fragment"]


def _row(cells: list[str], head: bool = False, cls: str = "") -> str:
    tag = "th" if head else "td"
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}>" + "".join(
        f'<{tag} class="num">{c}</{tag}>' if i else f"<{tag}>{c}</{tag}>"
        for i, c in enumerate(cells)) + "</tr>"


def _gradient_table(gr: Gradient) -> list[str]:
    esc = _html.escape
    loss = esc(gr.loss)
    if gt.is_grouped(gr):
        out = [f'<p class="note">{len(gr.spec.params):,} {esc(gt.GROUPED_NOTE)}.</p>', "<table>",
               "<thead>" + _row(["params", "how many", f"∂{loss}/∂p from … to",
                                 f"largest |∂{loss}/∂p|", f"paths to {loss}"], head=True)
               + "</thead><tbody>"]
        groups = gt.param_groups(gr)
        for g in groups:
            top = "—" if g.top is None else f"{esc(gt.number(g.top_value))} ({esc(g.top)})"
            out.append(_row([esc(g.pattern), f"{g.count:,}", esc(gt.span(g.low, g.high, 9)), top,
                             esc(gt.count_span(g.paths_low, g.paths_high))]))
        return [*out, "</tbody></table>",
                *(f'<p class="note">{esc(line)}</p>' for line in gt.missing_notes(groups))]
    out = ["<table>", "<thead>" + _row(["param", "value", f"∂{loss}/∂param",
                                        f"paths to {loss}"], head=True) + "</thead><tbody>"]
    for p in gr.spec.params:
        v = gr.values.get(p)
        g = gr.gradient.get(p)
        out.append(_row([esc(p), esc(gt.number(None if v is None else float(v))),
                         esc(gt.number(g) if g is not None else gr.notes.get(p, "—")),
                         f"{gr.paths.get(p, 0):,}"]))
    return [*out, "</tbody></table>"]


def _steps(gr: Gradient) -> list[str]:
    esc = _html.escape
    first = gr.steps[0]
    k, n = len(gr.steps), len(gr.update)
    shown = gt._shown_steps(k)
    out = [f"<h2>Gradient descent: p ← p − η·∂{esc(gr.loss)}/∂p with η = {first.lr:g}, {k} "
           f"step{'s' * (k != 1)}, updating {n:,} param{'s' * (n != 1)}</h2>"]
    fixed = [p for p in gr.spec.params if p not in set(gr.update)]
    if fixed:
        out.append(f'<p class="note">kept: {esc(", ".join(fixed[:8]))}'
                   f"{', …' if len(fixed) > 8 else ''}</p>")
    out += ["<table>", "<thead>" + _row(["param", "before", f"∂{esc(gr.loss)}/∂p",
                                         *(f"after step {i + 1}" for i in shown)], head=True)
            + "</thead><tbody>"]
    if n <= gt.MAX_STEP_ROWS:
        for p in gr.update:
            v0 = gr.values.get(p)
            out.append(_row([esc(p), esc(gt.number(None if v0 is None else float(v0))),
                             esc(gt.number(first.gradient.get(p))),
                             *(esc(gt.number(gr.steps[i].params[p])) for i in shown)]))
    out.append(_row([f"loss {esc(gr.loss)}", esc(gt.number(first.loss_before)), "",
                     *(esc(gt.number(gr.steps[i].loss_after)) for i in shown)], cls="sum"))
    out.append("</tbody></table>")
    if k > len(shown):
        out.append('<p class="note">--format json has every step.</p>')
    return out


def fragment(gr: Gradient) -> str:
    """The `<div class="pathgrad">` with its styles, for Jupyter or a page of your own."""
    esc = _html.escape
    loss = esc(gr.loss)
    out = ['<div class="pathgrad">', f"<style>{CSS}{EXTRA_CSS}</style>",
           f"<h1>∂{loss}/∂p for every param p: {esc(gr.spec.name or gr.spec.source)}</h1>"]
    if gr.spec.description:
        out.append(f'<p class="about">{esc(gr.spec.description)}</p>')
    out.append(f"<p>{loss} = {esc(gt.number(gr.value))} at the point. Reverse mode: one sweep "
               f"from {loss} back to every param; each δ is the sum over every path from its "
               "name.</p>")
    out += _gradient_table(gr)
    bad = next((s.verification for s in gr.steps if not s.verification.verified), None)
    v = gr.verification if bad is None or not gr.verification.verified else bad
    cls, mark = ("ok", "✓ verified") if gr.verified else ("bad", "✗ NOT VERIFIED")
    out.append(f'<p class="verdict {cls}">{mark}: {esc(v.detail)}</p>')
    if gr.steps:
        out += _steps(gr)
    out += [f"<footer>Written by pathgrad from {esc(gr.spec.source)}.</footer>", "</div>"]
    return "\n".join(out)


def render(gr: Gradient) -> str:
    """One self-contained page."""
    return page(f"∂{gr.loss}/∂p — {gr.spec.name or gr.spec.source}", fragment(gr))
