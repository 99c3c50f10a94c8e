"""What `pathgrad check` says about each mistake, as plain sentences (terminal and JSON).

One sentence per finding, in the network's names and Leibniz notation: which factor, what was
expected, what was given, and why a product or the gradient is off.
"""

from __future__ import annotations

from ..analyses.grading import FactorGrade, Grade, GradientGrade, PathGrade, ValueGrade
from ..errors import printable, suggest
from .notation import Notation
from .scene import number

__all__ = ["route", "factor_message", "value_message", "path_message", "gradient_message",
           "missing_message", "score_line", "expected_text"]


def num(x: float | None) -> str:
    return number(x, 4)


def route(nodes: tuple[str, ...]) -> str:
    return printable(" → ".join(nodes))


def expected_text(f: FactorGrade, note: Notation) -> str:
    """The local partial, and its value when it has one: `w21·a11·(1−a11) = −0.2618`."""
    expr = note.pretty(f.expected)
    value = num(f.expected_value)
    return expr if expr == value else f"{expr} = {value}"


def factor_message(f: FactorGrade, note: Notation) -> str:
    leib = f"∂{f.v}/∂{f.u}"
    if f.status == "missing":
        return f"factor {f.index + 1} {leib}: not given (it is {expected_text(f, note)})"
    given = printable(f.given.text) if f.given is not None else ""
    if f.status == "correct":
        how = ""
        if f.given is not None and f.given.symbolic:
            how = {"exact": " (the same expression)", "simplify": " (equal after simplifying)",
                   "numeric": " (equal at random test points)"}.get(f.method or "", "")
        return f"factor {f.index + 1} {leib} = {given}: correct{how}"
    text = f"factor {f.index + 1} {leib}: wrong — expected {expected_text(f, note)}, " \
           f"you gave {given}"
    if f.given is not None and f.given.symbolic and f.given_value is not None:
        text += f" (= {num(f.given_value)} here)"
    extra = {"sign": "; the sign is wrong",
             "undefined": " (it has no value at this point)",
             "point-only": "; equal at this point, but not the same function: it is wrong "
                           "elsewhere"}.get(f.reason or "")
    return text + (extra or "")


def value_message(v: ValueGrade, p: PathGrade) -> str:
    if v.status == "missing":
        return f"product: not given (it is {num(v.expected)})"
    if v.status == "correct":
        return f"product {num(v.given)}: correct"
    head = f"product: wrong — expected {num(v.expected)}, you gave {num(v.given)}"
    if v.reason == "carried":
        which = ", ".join(str(i + 1) for i in v.wrong_factors)
        s = "s" if len(v.wrong_factors) > 1 else ""
        return (f"{head}; it is the product of your factors, so it is wrong only because "
                f"factor{s} {which} {'are' if s else 'is'} wrong")
    if v.reason == "arithmetic" and v.from_factors is not None:
        return f"{head}; an arithmetic slip: the product of your factors is {num(v.from_factors)}"
    if v.reason == "sign":
        return f"{head}; the sign is wrong"
    return head


def path_message(p: PathGrade, g: Grade) -> str:
    """The one-line verdict on a path."""
    if p.status == "duplicate":
        return f"listed twice: the same path as entry {p.duplicate_of + 1}"  # type: ignore
    if p.status == "not-a-path":
        if p.problem == "unknown-name":
            hint = suggest(p.unknown or "", g.spec.names)
            return (f"not a path: '{printable(p.unknown or '')}' is not a name in the network"
                    + (f"; {hint}" if hint else ""))
        if p.problem == "no-edge":
            u, v = p.bad_edge  # type: ignore[misc]
            why = f"{printable(v)} is an input or param: it uses nothing" \
                if g.spec.kind(v) in ("input", "param") else \
                f"{printable(v)}'s expression does not use {printable(u)}"
            return f"not a path: there is no edge {printable(u)} → {printable(v)} ({why})"
        if p.problem == "start":
            return f"not a path of ∂{g.loss}/∂{g.weight}: it starts at " \
                   f"{printable(p.nodes[0])}, not at {g.weight}"
        return f"not a path of ∂{g.loss}/∂{g.weight}: it ends at {printable(p.nodes[-1])}, " \
               f"not at the loss {g.loss}"
    head = f"path {p.number} of the network"
    if p.status == "correct":
        return head + ": correct" + (" (factors listed loss side first, as the chain is "
                                     "written; factors[i] is ∂nodes[i+1]/∂nodes[i])"
                                     if p.reversed_factors else "")
    return head + ": " + ", ".join(w for w in (
        "a factor is wrong" if any(f.status == "wrong" for f in p.factors) else "",
        "the product is wrong" if p.value.status == "wrong" else "") if w)


def missing_message(nodes: tuple[str, ...], g: Grade) -> str:
    k = next(i for i, p in enumerate(g.explanation.paths) if p.nodes == nodes)
    value = g.explanation.paths[k].value
    return f"missed path {k + 1}: {route(nodes)} (its value is {num(value)})"


def gradient_message(gr: GradientGrade, g: Grade) -> str:
    what = f"∂{g.loss}/∂{g.weight}"
    if gr.status == "correct":
        return f"gradient {what} = {num(gr.given)}: correct"
    head = f"gradient {what}: wrong — expected {num(gr.expected)}, you gave {num(gr.given)}"
    n = len(g.missing)
    reasons = {
        "missed-path": f"; it equals the sum of your path values, but you missed "
                       f"{n} path{'s' if n != 1 else ''}",
        "extra-path": "; it equals the sum of your path values, but one of them is not a path "
                      "of the network",
        "duplicate": "; it equals the sum of your path values, but you counted a path twice",
        "path-values": "; it equals the sum of your path values, but some of them are wrong",
        "sign": "; the sign is wrong",
    }
    text = head + reasons.get(gr.reason or "", "")
    if gr.reason == "value" and gr.your_sum is not None:
        text += f"; it is not the sum of your path values either ({num(gr.your_sum)})"
    return text


def score_line(g: Grade) -> str:
    verdict = "all correct" if g.correct else "not all correct"
    return f"score {g.earned}/{g.possible} — {verdict} (one point per path found, per " \
           f"correct factor, per correct product and for the gradient)"
