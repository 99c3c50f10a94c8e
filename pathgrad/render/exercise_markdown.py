"""An exercise sheet (or key) in GitHub-flavoured Markdown: the network as a Mermaid block,
math in `$…$`, one table per path with empty cells for the blanks."""

from __future__ import annotations

import re

from ..analyses.exercise import Exercise, KeyPath, Variant, points
from . import texmath as tm
from .exercise_text import KEY_DIGITS, exact, regenerate
from .texmath import TexNotation

__all__ = ["render"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~])")


def text(s: str) -> str:
    """Markdown-safe prose: every character with a meaning in Markdown backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(s.split()))


BLANK = "&nbsp;" * 24  # an empty cell wide enough to write in
LINE = "\\_" * 30


def render(ex: Exercise, key: bool = False, source: str | None = None) -> str:
    tex = TexNotation(ex.spec)
    # with the key: every variant's sheet, then every variant's key
    parts = [_page(ex, v, k, tex, source) for k in ((False, True) if key else (False,))
             for v in ex.variants]
    return "\n---\n\n".join(parts)


def _page(ex: Exercise, v: Variant, key: bool, tex: TexNotation, source: str | None) -> str:
    from . import drawing, scene

    blank = set(ex.blank)
    w, loss = tex.name(ex.weight), tex.name(ex.loss)
    title = "Answer key" if key else "Exercise"
    out = [f"# {title}: $\\partial {loss}/\\partial {w}$ as a sum over paths\n",
           f"**Variant {v.number} of {len(ex.variants)}** · seed {v.seed} · "
           f"`{regenerate(ex, v, source)}`\n"]
    about = [f"**{text(ex.spec.name)}.**"] if ex.spec.name else []
    if ex.spec.description:
        about.append(text(ex.spec.description))
    if about:
        out.append(" ".join(about) + "\n")
    lit = key or "paths" not in blank
    if len(ex.spec.names) <= 150:
        sc = scene.build(ex.spec, ex.weight if lit else None, "none")
        out.append("```mermaid\n" + drawing.mermaid(sc) + "```\n")
    out.append("**Values:** " + ", ".join(f"${tex.name(n)} = {exact(x)}$"
                                           for n, x in v.values.items()) + "\n")
    asks = []
    if "paths" in blank:
        asks.append(f"Write down every path from ${w}$ to ${loss}$.")
    if "partials" in blank:
        asks.append("For each edge $u \\to v$ of a path, write $\\partial v/\\partial u$ in the "
                    "network's names.")
    if "values" in blank:
        asks.append("Evaluate the local partials, multiply along each path and add the paths "
                    "(4 significant digits).")
    out.extend(f"{i}. {a}" for i, a in enumerate(asks, 1))
    out.append("")
    for n, p in enumerate(v.paths, 1):
        out.append(_block(p, n, key, blank, tex))
    if "values" in blank:
        value = f"$= {tm.number(v.gradient, KEY_DIGITS)}$ **[1 pt]**" if key else LINE
        out.append(f"**Gradient** $\\partial {loss}/\\partial {w}$: {value}\n")
    if key:
        out.append(f"**Total: {points(v.paths, ex.blank)} points** (one per path found, per "
                   "factor, per product and for the gradient).\n")
    return "\n".join(out)


def _block(p: KeyPath, n: int, key: bool, blank: set[str], tex: TexNotation) -> str:
    route = "$" + " \\to ".join(tex.name(x) for x in p.nodes) + "$"
    shown = key or "paths" not in blank
    out = [f"### Path {n}: {route if shown else LINE}"
           + (" **[1 pt]**" if key and "paths" in blank else "") + "\n"]
    if not ({"partials", "values"} & blank):
        return "\n".join(out)
    head = ["edge", "local partial"] + (["value"] if "values" in blank else []) + \
        (["pt"] if key else [])
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for i in reversed(range(len(p.factors))):
        u, v = p.nodes[i], p.nodes[i + 1]
        cells = [f"$\\partial {tex.name(v)}/\\partial {tex.name(u)}$" if shown else BLANK]
        partial = "$" + tex.latex(p.factors[i]).replace("|", "\\vert ") + "$"
        cells.append(partial if key or "partials" not in blank else BLANK)
        if "values" in blank:
            cells.append(f"${tm.number(p.factor_values[i], KEY_DIGITS)}$" if key else BLANK)
        if key:
            cells.append("1")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if "values" in blank:
        value = f"$= {tm.number(p.value, KEY_DIGITS)}$ **[1 pt]**" if key else LINE
        out.append(f"Product along path {n}: {value}\n")
    return "\n".join(out)
