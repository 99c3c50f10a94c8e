"""`pathgrad exercise -o quiz.xml`: Moodle XML, one cloze question per variant.

Every LMS that imports Moodle XML (Moodle, ILIAS, Canvas via converters …) gets, per variant,
the network as an embedded PNG, the values, and a NUMERICAL field with a tolerance (1 % of
the value) for each local partial, each path's product and the gradient; the general
feedback is the key. Math is in MathJax's \\( … \\) delimiters.
"""

from __future__ import annotations

import base64
from html import escape

from ..analyses.exercise import Exercise, Variant
from .exercise_text import exact, key_number, regenerate, tolerance
from .texmath import TexNotation

__all__ = ["quiz", "RELATIVE_TOLERANCE"]

RELATIVE_TOLERANCE = 0.01
NO_MATH = "tex2jax_ignore mathjax_ignore"  # MathJax 2 and 3 leave such elements alone


def _cdata(html: str) -> str:
    return "<![CDATA[" + html.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(x: float) -> str:
    """A cloze NUMERICAL field: 1 point, the exact answer, an absolute tolerance."""
    return "{1:NUMERICAL:=%s:%s}" % (repr(float(x)), f"{tolerance(x, RELATIVE_TOLERANCE):.3g}")


def quiz(ex: Exercise, source: str | None = None) -> str:
    tex = TexNotation(ex.spec)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>",
           '  <question type="category">',
           "    <category><text>$course$/pathgrad/" + escape(f"d{ex.loss}-d{ex.weight}")
           + "</text></category>", "  </question>"]
    for v in ex.variants:
        out.append(_question(ex, v, tex, source))
    out.append("</quiz>")
    return "\n".join(out) + "\n"


def _question(ex: Exercise, v: Variant, tex: TexNotation, source: str | None) -> str:
    from . import drawing, scene

    w, loss = tex.name(ex.weight), tex.name(ex.loss)
    image, file = "", ""
    if len(ex.spec.names) <= 150:
        png = drawing.png(scene.build(ex.spec, None, "none"))
        name = f"network-{v.number}.png"
        image = f'<p><img src="@@PLUGINFILE@@/{name}" alt="the network" width="600"></p>'
        file = (f'      <file name="{name}" path="/" encoding="base64">'
                + base64.b64encode(png).decode("ascii") + "</file>\n")
    values = ", ".join(f"\\({tex.name(n)} = {exact(x)}\\)" for n, x in v.values.items())
    html = [f"<p>Variant {v.number} of {len(ex.variants)} (seed {v.seed}).</p>"]
    if ex.spec.name:
        # spec text is HTML-escaped, and kept from MathJax, which would read \( or $ in it
        html.append(f'<p><b><span class="{NO_MATH}">{escape(ex.spec.name)}</span></b></p>')
    html += [image, f"<p>Values: {values}.</p>",
             f"<p>\\(\\partial {loss}/\\partial {w}\\) is the sum over every path from "
             f"\\({w}\\) to \\({loss}\\) of the product of the local partials along it. "
             "Give each number to 4 significant digits (1 % is accepted).</p>", "<ol>"]
    feedback = ["<ol>"]
    for p in v.paths:
        route = " \\to ".join(tex.name(x) for x in p.nodes)
        rows = []
        for i in reversed(range(len(p.factors))):
            a, b = p.nodes[i], p.nodes[i + 1]
            rows.append(f"\\(\\partial {tex.name(b)}/\\partial {tex.name(a)}\\) = "
                        + _field(p.factor_values[i]))
        html.append(f"<li>\\({route}\\): " + "; ".join(rows)
                    + f"; product along the path = {_field(p.value)}</li>")
        feedback.append(f"<li>\\({route}\\): " + " \\(\\cdot\\) ".join(
            f"\\({tex.latex(p.factors[i])}\\) = {key_number(p.factor_values[i])}"
            for i in reversed(range(len(p.factors)))) + f"; product {key_number(p.value)}</li>")
    html.append("</ol>")
    html.append(f"<p>\\(\\partial {loss}/\\partial {w}\\) = {_field(v.gradient)}</p>")
    feedback.append("</ol>")
    feedback.append(f"<p>Sum over paths: {key_number(v.gradient)}. Regenerate with "
                    f"<code>{escape(regenerate(ex, v, source))}</code>.</p>")
    title = escape(f"∂{ex.loss}/∂{ex.weight} — variant {v.number} (seed {v.seed})")
    return "\n".join([
        '  <question type="cloze">',
        f"    <name><text>{title}</text></name>",
        '    <questiontext format="html">',
        "      <text>" + _cdata("\n".join(html)) + "</text>",
        file + "    </questiontext>",
        '    <generalfeedback format="html"><text>' + _cdata("\n".join(feedback))
        + "</text></generalfeedback>",
        "    <penalty>0.3333333</penalty>",
        "    <hidden>0</hidden>",
        "  </question>",
    ])
