"""Markdown export (GitHub-flavoured): the path table, then the derivation in `$$…$$` blocks
that GitHub, GitLab, Jupyter and most static-site generators render with MathJax/KaTeX."""

from __future__ import annotations

import re

from ..analyses.explanation import Explanation
from .latex import Writer
from .table import grouped_paths, number, percent

__all__ = ["render", "text", "cell"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~$])")


def text(s: str) -> str:
    """Markdown-safe prose: characters with a meaning in Markdown are backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(s.split()))


def cell(s: str) -> str:
    """Text for a table cell (no line breaks; | escaped)."""
    return text(s)


def _math(rows: list[str]) -> str:
    body = " \\\\\n".join(rows)
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$\n"


def render(ex: Explanation) -> str:
    """The explanation as GitHub-flavoured Markdown."""
    from .notation import Notation

    note = Notation(ex.spec)
    w, loss, n = ex.weight, ex.loss, ex.path_count
    tex = Writer(ex, tags=False, notes=False)
    out = [f"## ∂{text(loss)}/∂{text(w)}: {n:,} path{'s' if n != 1 else ''} from "
           f"{text(w)} to {text(loss)}", ""]
    about = [f"**{text(ex.spec.name)}**"] if ex.spec.name else []
    if ex.spec.description:
        about.append(text(ex.spec.description))
    if about:
        out += [" — ".join(about), ""]
    if not ex.paths:
        out += [f"{text(loss)} does not depend on {text(w)}: there are no paths, so "
                f"∂{text(loss)}/∂{text(w)} = 0.", ""]
    else:
        out += ["| # | path | chain (loss side first) | local partials | value | share |",
                "|--:|:--|:--|:--|--:|--:|"]
        for i, p, header in grouped_paths(ex):
            if header is not None:
                out.append(f"| | **{cell(header)}** | | | | |")
            partials = " · ".join(note.factor(f) for _, _, f in p.factors_loss_first())
            value = number(p.value) if p.value is not None else (p.note or "—")
            out.append(f"| {i} | {cell(' → '.join(p.nodes))} | {cell(p.chain)} | "
                       f"{cell(partials)} | {cell(value)} | {cell(percent(p.share))} |")
        out.append("")
        for i in range(len(ex.paths)):
            out += [f"### Path {i + 1}", "", _math(tex.path_rows(i))]
    out += ["### Sum over paths", "", _math(tex.sum_rows())]
    direct = tex.direct_rows()
    out += ["### Check", "", f"sympy's derivative of the composed {text(loss)}, written in the "
            "network's names:", ""]
    out += [_math(direct)] if direct else [text(tex.direct_note()), ""]
    v = ex.verification
    out.append(f"✓ **verified**: {text(ex.verdict)}" if v.verified
               else f"✗ **NOT VERIFIED**: {text(v.detail)}")
    if ex.value is None and ex.value_note:
        out += ["", f"No value at this point: {text(ex.value_note)}"]
    return "\n".join(out) + "\n"
