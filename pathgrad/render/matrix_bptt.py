"""`pathgrad matrix` for an rnn: backprop through time in matrix form, in the terminal and as
JSON (the same contract as for an mlp, one entry of "layers" per step)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analyses.matrix_bptt import BPTTForm, Step
from .formats import count, number
from .matrix_table import MATRIX_MAX, Equation, bracket, delta_text, heading, verdict
from .matrix_table import column as _column
from .matrix_table import indent as _indent
from .notation import Notation

__all__ = ["table", "json_data"]


def _pr(note: Notation, e: sp.Basic) -> str:
    """Text for people, δ's last in a product (h1_2·δ2_1, as δ_t (h_{t−1})ᵀ's entries read)."""
    if isinstance(e, sp.Mul):
        deltas = [f for f in e.args if isinstance(f, sp.Symbol) and f.name.startswith("delta")]
        if deltas and len(deltas) < len(e.args):
            rest = sp.Mul(*[f for f in e.args if f not in deltas])
            return "·".join([note.factor(rest), *(delta_text(d.name) for d in deltas)])
    return delta_text(note.pretty(e))


def _names(m: sp.Matrix) -> list[Any]:
    rows = [[str(x) for x in m.row(i)] for i in range(m.rows)]
    return [r[0] for r in rows] if m.cols == 1 else rows


def json_data(bt: BPTTForm) -> dict[str, Any]:
    """`{"loss", "convention", "layers": [one per step t: {"layer": t, "units", "delta",
    "delta_expr", "grad_W": δ_t (h_{t−1})ᵀ, "grad_b": δ_t or null, "paths_per_delta"}],
    "verified", "method"}` plus `kind: "rnn"`, `totals` (Σ over the steps), `names` …"""
    note = Notation(bt.spec)
    layers = []
    for s in bt.steps:
        layers.append({
            "layer": s.step, "units": s.units, "delta": list(s.delta_values),
            "delta_expr": [note.plain(e) for e in s.delta_expr],
            "grad_W": [list(r) for r in s.grad_W],
            "grad_b": None if s.grad_b is None else list(s.grad_b),
            "paths_per_delta": [int(n) for n in s.paths_per_delta],
            "step": s.step, "grad_U": [list(r) for r in s.grad_U], "grad_v": list(s.grad_v),
            "out_grad": s.out_grad_value,
            "out_grad_expr": None if s.out_grad is None else note.plain(s.out_grad),
            "act_prime_expr": [note.plain(e) for e in s.act_prime],
            "names": {"h_prev": _names(s.h_prev), "x": _names(s.x), "h": _names(s.h),
                      "delta": _names(s.delta)}})
    out: dict[str, Any] = {
        "loss": bt.loss, "convention": bt.convention, "layers": layers,
        "verified": bool(bt.verified), "method": bt.method, "kind": "rnn",
        "value": bt.loss_value, "totals": dict(bt.totals), "names": dict(bt.names),
        "verification": {"detail": bt.verification.detail,
                         "error_bound": bt.verification.error_bound},
        "checks": {p: dict(c) for p, c in bt.checks.items()},
        "path_sum_method": dict(bt.path_sum_method)}
    if bt.weight is not None:
        out["bridge"] = {"param": bt.weight, "value": bt.weight_value, "groups": [
            {"step": g.step, "node": g.node, "term": note.plain(g.term), "count": g.count,
             "value": g.value, "listed_value": g.listed_value,
             "shared": [note.plain(f) for f in g.shared],
             "next": [{"node": n.node, "edge": note.plain(n.edge), "term": note.plain(n.term),
                       "count": n.count, "value": n.value, "listed_value": n.listed_value}
                      for n in g.next]} for g in bt.groups]}
    return out


def _step(bt: BPTTForm, s: Step, note: Notation) -> list[RenderableType]:
    T = len(bt.steps)  # noqa: N806
    t, H = s.step, s.units  # noqa: N806
    act = bt.activation
    parts: list[RenderableType] = [Text(""), Text(
        f"Step {t}{' (the last)' if t == T else ''}: δ_{t} = ∂{bt.loss}/∂z_{t} is {H}×1",
        style="bold")]
    terms = []
    if t < T:
        terms.append(f"Wᵀ δ_{t + 1}")
    if s.out_grad is not None:
        terms.append(f"v·g_{t}")
    inner = " + ".join(terms) if terms else "0"
    parts.append(Text(f" BPTT  δ_{t} = ({inner}) ⊙ {act}′(z_{t})" + (
        f"   g_{t} = ∂{bt.loss}/∂o{t} = {_pr(note, s.out_grad)} = {number(s.out_grad_value)}"
        if s.out_grad is not None else f"   (the loss does not use o{t})")))
    if H <= MATRIX_MAX:
        items: list[Any] = [_column([delta_text(str(d)) for d in s.delta]), "="]
        if t < T:
            nxt = bt.steps[t]
            items += [bracket([[str(s.W[j, i]) for j in range(H)] for i in range(H)]),
                      _column([delta_text(str(d)) for d in nxt.delta])]
        if s.out_grad is not None:
            if t < T:
                items.append("+")
            items += [_column([str(x) for x in s.v]), f"·g_{t}"]
        items += ["⊙", _column([_pr(note, e) for e in s.act_prime]), "=",
                  _column([number(x) for x in s.delta_values], right=True)]
        parts.append(Equation(items))
    for i in range(H):
        k = s.paths_per_delta[i]
        line = Text(f"{delta_text(str(s.delta[i]))} = {_pr(note, s.delta_expr[i])} = "
                    f"{number(s.delta_values[i])}")
        line.append(f"   [{count(k)} path{'s' * (k != 1)}]", style="dim")
        parts.append(_indent(line))
    if H <= MATRIX_MAX:
        hp = ", ".join(str(x) for x in s.h_prev)
        parts.append(Text(f" step {t}'s terms of ∂{bt.loss}/∂W and ∂{bt.loss}/∂U "
                          f"(h_{t - 1} = ({hp})):", style="dim"))
        parts.append(Equation([f"δ_{t} (h_{t - 1})ᵀ =",
                               bracket([[number(x) for x in r] for r in s.grad_W], right=True),
                               f"  δ_{t} (x_{t})ᵀ =",
                               bracket([[number(x) for x in r] for r in s.grad_U],
                                       right=True)]))
    return parts


def _totals(bt: BPTTForm) -> list[RenderableType]:
    loss = bt.loss
    parts: list[RenderableType] = [Text(""), Text(
        "The gradient: each weight's sum over the steps where it enters", style="bold")]
    rows = [("W", f"∂{loss}/∂W = Σ_t δ_t (h_{{t−1}})ᵀ"), ("U", f"∂{loss}/∂U = Σ_t δ_t (x_t)ᵀ"),
            ("b", f"∂{loss}/∂b = Σ_t δ_t"), ("v", f"∂{loss}/∂v = Σ_t g_t h_t"),
            ("c", f"∂{loss}/∂c = Σ_t g_t")]
    for key, label in rows:
        vals, names = bt.totals.get(key), bt.names.get(key)
        if vals is None:
            continue
        if isinstance(vals, list) and vals and isinstance(vals[0], list):
            name_m = bracket(names)  # type: ignore[arg-type]
            num_m = bracket([[number(x) for x in r] for r in vals], right=True)
        elif isinstance(vals, list):
            name_m = _column(names)  # type: ignore[arg-type]
            num_m = _column([number(x) for x in vals], right=True)
        else:
            name_m, num_m = [str(names)], [number(vals)]
        parts.append(Text(f" {label}", style=""))
        parts.append(Equation([f"∂{loss}/∂", name_m, "=", num_m]))
    return parts


def _bridge(bt: BPTTForm, note: Notation) -> list[RenderableType]:
    w = bt.weight
    parts: list[RenderableType] = [Text(""), Text(
        f"The bridge: ∂{bt.loss}/∂{w} as a sum over the steps where {w} enters, each step's "
        "paths grouped by the node they pass next", style="bold")]
    tbl = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    tbl.add_column("step")
    tbl.add_column("enters · next", no_wrap=True)
    tbl.add_column("term")
    tbl.add_column("paths", justify="right")
    tbl.add_column("value", justify="right")
    tbl.add_column("listed", justify="right")
    for g in bt.groups:
        tbl.add_row(Text(str(g.step), style="bold"), Text(g.node, style="bold"),
                    Text(_pr(note, g.term), style="bold"), count(g.count), number(g.value),
                    number(g.listed_value), end_section=not g.next)
        if g.next:  # every path of the step shares ∂z/∂w and act′; then where it goes next
            h = g.node.replace("z", "h", 1)
            tbl.add_row("", Text(f"{g.node} → {h}", style="dim"),
                        Text("·".join(note.factor(f) for f in g.shared) + " (shared)",
                             style="dim"), "", "", "")
        for i, n in enumerate(g.next):
            tbl.add_row("", f"→ {n.node} via {n.edge}", delta_text(note.factor(n.term)),
                        count(n.count), number(n.value), number(n.listed_value),
                        end_section=i == len(g.next) - 1)
    parts.append(_indent(tbl, 2))
    total = sum(g.count for g in bt.groups)
    parts.append(_indent(Text(
        f"sum = {number(bt.weight_value)} over {count(total)} paths (g_t = ∂{bt.loss}/∂o_t). "
        "The same matrix W is used at every step, so its gradient adds one δ_t (h_{t−1})ᵀ per "
        "step, and each step's term is exactly the sum of the paths entering there. Within a "
        "step, a path leaves unit i along w_{m}_{i} into unit m of the next step (row i of Wᵀ) "
        "or along v_i into the step's output: that is the transpose in δ_t = (Wᵀ δ_{t+1} + "
        "v g_t) ⊙ act′(z_t). Each next-row's value includes its step's shared factors."), 2))
    return parts


def table(bt: BPTTForm) -> RenderableType:
    """The terminal output."""
    note = Notation(bt.spec)
    parts = heading("Backprop through time in matrix form", bt.spec)
    parts.append(Text("Convention: " + bt.convention + ".", style="italic"))
    parts.append(Text(f"{bt.loss} = {number(bt.loss_value)} at the point; the equations run "
                      "from the last step back to the first."))
    for s in reversed(bt.steps):
        parts += _step(bt, s, note)
    parts += _totals(bt)
    if bt.weight is not None:
        parts += _bridge(bt, note)
    parts.append(Text(""))
    parts.append(verdict(bt.verification))
    return Group(*parts)
