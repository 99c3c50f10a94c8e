"""Markdown export (GitHub-flavoured): the path table in the network's notation, the values at
the point, the network as a ```mermaid block (GitHub, GitLab and many editors draw it), then
the derivation in `$$…$$` blocks that GitHub, GitLab, Jupyter and most static-site
generators render with MathJax/KaTeX."""

from __future__ import annotations

import re

from ..analyses.explanation import Explanation
from ..analyses.toppaths import TopPaths
from . import formats
from .formats import Options
from .latex import PICTURE_NAMES_LIMIT, Writer
from .table import grouped_paths, names_on_paths

__all__ = ["render", "text", "cell", "inline"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~$])")
VALUE_PAIRS = 4  # name = value pairs per row of the values table
POINT_LIMIT = 120


def text(s: str) -> str:
    """Markdown-safe prose: characters with a meaning in Markdown are backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(s.split()))


def cell(s: str) -> str:
    """Text for a table cell (no line breaks; | escaped)."""
    return text(s)


def inline(tex: str) -> str:
    """Inline math for a table cell: `|` would end the cell, so it is written \\vert."""
    return "$" + " ".join(tex.split()).replace("|", r"\vert ") + "$"


def _math(rows: list[str]) -> str:
    body = " \\\\\n".join(rows)
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$\n"


def _values(tex: Writer) -> list[str]:
    """The leaves' values and the forward pass, as a table of name = value pairs."""
    ex = tex.ex
    spec = ex.spec
    items = [(n, float(v) if v is not None else None) for n, v in ex.values.items()]
    if isinstance(ex, Explanation):
        nodes = ex.node_values
    else:
        from .numbers import forward_values

        nodes = forward_values(spec, ex.values) if len(spec.nodes) <= 2_000 else {}
    items += [(n, nodes.get(n)) for n in spec.graph.order if n in spec.nodes and n in nodes]
    rest = 0
    if len(items) > POINT_LIMIT:
        on_paths = names_on_paths(ex)  # type: ignore[arg-type]
        keep = [it for it in items if it[0] in on_paths][:POINT_LIMIT]
        rest, items = len(items) - len(keep), keep
    if not items:
        return []
    cells = [inline(f"{tex.tex.name(n)} = {tex.num(v, False)}") for n, v in items]
    out = ["**Values at the point** (the leaves, then the nodes in the order they are "
           "computed):", "", "|" + " |" * VALUE_PAIRS, "|" + ":--|" * VALUE_PAIRS]
    for k in range(0, len(cells), VALUE_PAIRS):
        row = cells[k:k + VALUE_PAIRS]
        out.append("| " + " | ".join(row + [""] * (VALUE_PAIRS - len(row))) + " |")
    if rest:
        out += ["", f"and {rest:,} more (`--format json` has every value)"]
    return [*out, ""]


def _graph(ex: Explanation | TopPaths) -> list[str]:
    if len(ex.spec.names) > PICTURE_NAMES_LIMIT:
        return [f"(The network has {len(ex.spec.names):,} names, too many to draw here; "
                "`pathgrad graph SPEC -o net.mmd` writes it.)", ""]
    from .drawing import draw

    chart = draw(ex.spec, "mermaid", ex.weight)
    return ["```mermaid", str(chart).rstrip("\n"), "```", ""]


def render(ex: Explanation | TopPaths, options: Options | None = None) -> str:
    """The explanation (or the top K paths) as GitHub-flavoured Markdown."""
    opts = options or Options()
    top = isinstance(ex, TopPaths)
    w, loss, n = ex.weight, ex.loss, ex.path_count
    tex = Writer(ex, tags=False, notes=False, options=opts)
    name = tex.tex.name
    lhs = tex.tex.leibniz(loss, w)
    if top:
        head = (f"## The {len(ex.paths):,} largest of the {formats.count(n)} paths from "
                f"{inline(name(w))} to {inline(name(loss))}")
    else:
        head = (f"## {inline(lhs)}: {n:,} path{'s' if n != 1 else ''} from {inline(name(w))} "
                f"to {inline(name(loss))}")
    out = [head, ""]
    about = [f"**{text(ex.spec.name)}**"] if ex.spec.name else []
    if ex.spec.description:
        about.append(text(ex.spec.description))
    if about:
        out += [" — ".join(about), ""]
    out += _values(tex)
    out += _graph(ex)
    if not ex.paths:
        out += [f"{inline(name(loss))} does not depend on {inline(name(w))}: there are no "
                f"paths, so {inline(lhs + ' = 0')}.", ""]
    else:
        out += ["| # | path | chain (loss side first) | local partials | value | share |",
                "|--:|:--|:--|:--|--:|--:|"]
        for i, p, header in grouped_paths(ex):  # type: ignore[arg-type]
            if header is not None:
                out.append(f"| | **{cell(header)}** | | | | |")
            route = r" \to ".join(name(x) for x in p.nodes)
            chain = r" \cdot ".join(rf"\partial {name(v)}/\partial {name(u)}"
                                    for v, u, _ in p.factors_loss_first())
            partials = r" \cdot ".join(tex.tex.factor(f) for f in tex.factors(i - 1))
            value = formats.number(p.value, opts.digits) if p.value is not None else (
                p.note or "—")
            out.append(f"| {i} | {inline(route)} | {inline(chain)} | {inline(partials)} | "
                       f"{cell(value)} | {cell(formats.percent(p.share))} |")
        out.append("")
        for i in range(len(ex.paths)):
            out += [f"### Path {i + 1}", "", _math(tex.path_rows(i))]
    out += ["### Sum over paths" if not top else "### What these paths add up to", "",
            _math(tex.sum_rows())]
    if top:
        out.append(text(tex.verdict_words()))
        return "\n".join(out) + "\n"
    direct = tex.direct_rows()
    simplified = " and simplified for reading (proved equal)" if tex.read.direct is not None \
        else ""
    before, after = ex.direct_label_parts
    after = f" {text(after.strip())}" if after else ""
    out += ["### Check", "", f"{text(before.rstrip())} {inline(name(loss))}{after}, "
            f"written in the network's names{simplified}:", ""]
    out += [_math(direct)] if direct else [text(tex.direct_note()), ""]
    v = ex.verification
    words = text(tex.verdict_words().removeprefix("Verified: "))
    out.append(f"✓ **verified**: {words}" if v.verified else f"✗ **NOT VERIFIED**: {words}")
    if ex.value is None and ex.value_note:
        out += ["", f"No value at this point: {text(ex.value_note)}"]
    return "\n".join(out) + "\n"
