"""Backprop through time in matrix form, for nets made by the `rnn` builder.

Step t has z_t = W h_{t−1} + U x_t + b, h_t = act(z_t) and the output o_t = v·h_t + c, with W
the H×H matrix of w_{i}_{j} (hidden unit j at step t−1 → hidden unit i at step t: row i is the
unit a weight enters, as in Nielsen's convention), U the H×n matrix of u_{i}_{k}. The same W, U,
b, v, c serve every step. With δ_t = ∂E/∂z_t and g_t = ∂E/∂o_t (0 at steps the loss does not
use), backprop through time is BP2 along the steps instead of the layers:

- δ_T = (v g_T) ⊙ act′(z_T)
- δ_t = (Wᵀ δ_{t+1} + v g_t) ⊙ act′(z_t)
- ∂E/∂W = Σ_t δ_t (h_{t−1})ᵀ, ∂E/∂U = Σ_t δ_t (x_t)ᵀ, ∂E/∂b = Σ_t δ_t,
  ∂E/∂v = Σ_t g_t h_t, ∂E/∂c = Σ_t g_t

— each weight's gradient is a sum over the steps where it enters, and each step's term is the
sum over the paths that enter there; within a step those paths split by where they go after
h_t: along w_{m}_{i} into step t + 1 (row i of Wᵀ) or along v_i into o_t. Every entry is
checked as `matrix_form` checks an mlp's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network
from ..errors import UsageError
from ..numeric.points import DIGITS, as_float, point_values
from ..spec import Spec
from ..spec.model import apply_values
from ..verify.methods import Verification
from .budget import check_cone
from .gradient import _check_values
from .matrix import Checked, MatrixForm, _add, _delta_symbols, _mul, _product, _verify, matrix_form

__all__ = ["Step", "StepGroup", "NextGroup", "BPTTForm", "bptt_form", "matrix_or_bptt",
           "RNN_CONVENTION"]

RNN_CONVENTION = ("w_{i}_{j} joins hidden unit j at step t−1 to hidden unit i at step t, so in "
                  "W row i is the unit a weight enters and column j the unit it leaves (as "
                  "Nielsen's w^l_jk); u_{i}_{k} joins input k to hidden unit i; z_t = W h_{t−1} + "
                  "U x_t + b, h_t = act(z_t), o_t = v·h_t + c; δ_t = ∂E/∂z_t, g_t = ∂E/∂o_t; "
                  "gradients in numerator layout, summed over the steps (the same W at every "
                  "step)")


@dataclass(frozen=True)
class Step:
    """One step t: δ_t and its equation, and the step's terms of every gradient."""

    step: int
    units: int
    W: sp.Matrix  # H × H symbols w_{i}_{j} (the same at every step)
    v: sp.Matrix  # H × 1
    h_prev: sp.Matrix  # H × 1: h_{t−1}
    x: sp.Matrix  # n × 1: x_t
    h: sp.Matrix  # H × 1
    delta: sp.Matrix  # H × 1 of δ symbols delta{t}_{i}
    act_prime: sp.Matrix  # act′(z_t) in node names
    out_grad: sp.Expr | None  # g_t = ∂E/∂o_t in node names (None: the loss does not use o_t)
    delta_expr: sp.Matrix  # δ_t in node names and the δ symbols of step t + 1
    delta_values: tuple[float | None, ...]
    out_grad_value: float | None
    grad_W: tuple[tuple[float | None, ...], ...]  # this step's term δ_t (h_{t−1})ᵀ
    grad_U: tuple[tuple[float | None, ...], ...]  # δ_t (x_t)ᵀ
    grad_b: tuple[float | None, ...] | None  # δ_t (None without biases)
    grad_v: tuple[float | None, ...]  # g_t h_t
    paths_per_delta: tuple[int, ...]


@dataclass(frozen=True)
class NextGroup:
    """The paths of one step group that pass one node next, after z_t,i → h_t,i: unit m at
    step t + 1 (along w_{m}_{i}, row i of Wᵀ) or the step's output o_t (along v_i)."""

    node: str  # z{t+1}_{m} or o{t}
    edge: sp.Expr  # w_{m}_{i} or v_{i}
    term: sp.Expr  # edge·delta{t+1}_{m} or v_{i}·g{t}: the group without the shared factors
    count: int
    value: float | None  # shared factors included
    listed_value: float | None


@dataclass(frozen=True)
class StepGroup:
    """The paths of --weight that enter at step t: its step's term of the gradient."""

    step: int
    node: str  # z{t}_{i} (or o{t} for v and c)
    term: sp.Expr  # h{t−1}_{j}·delta{t}_{i}, x{t}·delta{t}_{i}, delta{t}_{i}, g_t·h{t}_{i} …
    count: int
    value: float | None
    listed_value: float | None
    shared: tuple[sp.Expr, ...] = ()  # the factors every path of the step shares: h·act′
    next: tuple[NextGroup, ...] = ()  # grouped by the node after h_t,i (empty for v and c)


@dataclass(frozen=True)
class BPTTForm(Checked):
    """The whole gradient of an unrolled RNN in matrix form, checked entry by entry."""

    spec: Spec
    loss: str
    loss_value: float | None
    steps: tuple[Step, ...]  # t = 1 … T
    totals: dict[str, Any]  # "W", "U", "b", "v", "c": Σ over the steps (floats)
    names: dict[str, Any]  # "W", "U", "b", "v", "c": the param names in matrix shape
    activation: str
    verification: Verification
    checks: dict[str, dict[str, float | None]]
    path_sum_method: dict[str, str]
    weight: str | None = None
    groups: tuple[StepGroup, ...] = ()
    weight_value: float | None = None
    values: dict[str, Fraction | None] = field(default_factory=dict)
    convention: str = RNN_CONVENTION


def matrix_or_bptt(spec: Spec, values: Mapping[str, object] | None = None, *,
                   weight: str | None = None) -> MatrixForm | BPTTForm:
    """`bptt_form` for an rnn, `matrix_form` for anything else (which refuses non-mlp nets)."""
    if (spec.meta.get("builders") or []) == ["rnn"]:
        return bptt_form(spec, values, weight=weight)
    return matrix_form(spec, values, weight=weight)


def bptt_form(spec: Spec, values: Mapping[str, object] | None = None, *,
              weight: str | None = None, method: str | None = None) -> BPTTForm:
    """BPTT in matrix form for an rnn-built `spec`; with `weight` (a param), its gradient as
    the sum of one term per step, each the sum over the paths entering at that step.

    >>> from pathgrad import load
    >>> bt = bptt_form(load("examples/rnn_width2.yaml"), weight="w_1_2")
    >>> len(bt.steps), bt.verified, [g.step for g in bt.groups]
    (3, True, [1, 2, 3])
    """
    cfg = spec.meta.get("rnn")
    if (spec.meta.get("builders") or []) != ["rnn"] or not isinstance(cfg, dict):
        raise UsageError(f"{spec.source} is not made by an `rnn:` block")
    leaves0 = apply_values(spec, values)
    _check_values(spec, leaves0)
    check_cone(spec, None)  # BPTT is every param's gradient
    if weight is not None and weight not in spec.params:
        raise UsageError(f"--weight '{weight}' is not a param of the rnn", None,
                         "choose one of " + ", ".join([*spec.params][:8]))
    net = Network(spec, spec.graph)
    H, T = int(cfg["width"]), int(cfg["steps"])  # noqa: N806
    bases = list(cfg["inputs"])
    n_in = len(bases)
    one, scalar = H == 1, H == 1 and n_in == 1
    bias = bool(cfg["bias"])
    loss = spec.loss
    sym = net.symbols

    def st(kind: str, t: int, i: int) -> str:
        return f"{kind}{t}" if one else f"{kind}{t}_{i}"

    wn = [["w" if one else f"w_{i}_{j}" for j in range(1, H + 1)] for i in range(1, H + 1)]
    un = [["u" if scalar else f"u_{i}_{k}" for k in range(1, n_in + 1)] for i in range(1, H + 1)]
    bn = ["b" if one else f"b_{i}" for i in range(1, H + 1)] if bias else []
    vn = ["v" if one else f"v_{i}" for i in range(1, H + 1)]
    W = sp.Matrix([[sym[w] for w in row] for row in wn])  # noqa: N806
    v = sp.Matrix([sym[x] for x in vn])
    dsym = _delta_symbols(spec, [0, *([H] * T)])
    counts = spec.graph.path_counts(loss)
    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaves0)
        val = pv.values
        deltas: dict[int, list[Any]] = {}
        exprs: dict[int, list[sp.Expr]] = {}
        outs: dict[int, tuple[sp.Expr | None, Any]] = {}
        primes: dict[int, tuple[list[sp.Expr], list[Any]]] = {}
        for t in range(T, 0, -1):
            o = f"o{t}"
            if o in spec.nodes:
                outs[t] = (net.local_partial(o, loss), pv.partials[(o, loss)])
            else:
                outs[t] = (None, mpmath.mpf(0))
            zs, hs = [st("z", t, i) for i in range(1, H + 1)], [st("h", t, i) for i in
                                                                 range(1, H + 1)]
            primes[t] = ([net.local_partial(z, h) for z, h in zip(zs, hs)],
                         [pv.partials[(z, h)] for z, h in zip(zs, hs)])
            g_expr, g_val = outs[t]
            row_e, row_v = [], []
            for i in range(H):
                back, back_v = [], []
                if t < T:
                    back += [W[j, i] * dsym[(t + 1, j + 1)] for j in range(H)]
                    back_v += [_mul(val[wn[j][i]], deltas[t + 1][j]) for j in range(H)]
                if g_expr is not None:
                    back.append(v[i] * g_expr)
                    back_v.append(_mul(val[vn[i]], g_val))
                row_e.append(sp.Add(*back) * primes[t][0][i])
                row_v.append(_mul(_add(back_v) if back_v else mpmath.mpf(0), primes[t][1][i]))
            exprs[t], deltas[t] = row_e, row_v
        steps = []
        grads: dict[str, Any] = {}

        def acc(name: str, x: Any) -> None:
            grads[name] = x if name not in grads else _add([grads[name], x])

        for t in range(1, T + 1):
            hp = [st("h", t - 1, i) for i in range(1, H + 1)]
            xs = [f"{b}{t}" for b in bases]
            hs = [st("h", t, i) for i in range(1, H + 1)]
            d = deltas[t]
            gW = [[_mul(d[i], val[hp[j]]) for j in range(H)] for i in range(H)]  # noqa: N806
            gU = [[_mul(d[i], val[xs[k]]) for k in range(n_in)] for i in range(H)]  # noqa: N806
            g_val = outs[t][1]
            gv = [_mul(g_val, val[h]) for h in hs]
            for i in range(H):
                for j in range(H):
                    acc(wn[i][j], gW[i][j])
                for k in range(n_in):
                    acc(un[i][k], gU[i][k])
                if bias:
                    acc(bn[i], d[i])
                acc(vn[i], gv[i])
            if bias:
                acc("c", g_val)
            steps.append(Step(
                step=t, units=H, W=W, v=v, h_prev=sp.Matrix([sym[h] for h in hp]),
                x=sp.Matrix([sym[x] for x in xs]), h=sp.Matrix([sym[h] for h in hs]),
                delta=sp.Matrix([dsym[(t, i)] for i in range(1, H + 1)]),
                act_prime=sp.Matrix(primes[t][0]), out_grad=outs[t][0],
                delta_expr=sp.Matrix(exprs[t]),
                delta_values=tuple(as_float(x) for x in d), out_grad_value=as_float(g_val),
                grad_W=tuple(tuple(as_float(x) for x in r) for r in gW),
                grad_U=tuple(tuple(as_float(x) for x in r) for r in gU),
                grad_b=tuple(as_float(x) for x in d) if bias else None,
                grad_v=tuple(as_float(x) for x in gv),
                paths_per_delta=tuple(int(counts[st("z", t, i)]) for i in range(1, H + 1))))
        for p in spec.params:
            grads.setdefault(p, mpmath.mpf(0))

        def entries() -> list[tuple[str, sp.Expr]]:
            full: dict[sp.Symbol, sp.Expr] = {}
            for step in reversed(steps):
                for i in range(H):
                    full[dsym[(step.step, i + 1)]] = step.delta_expr[i].xreplace(full)
            out: dict[str, sp.Expr] = {}

            def add(name: str, e: sp.Expr) -> None:
                out[name] = out.get(name, sp.S.Zero) + e

            for step in steps:
                dd = [full[dsym[(step.step, i + 1)]] for i in range(H)]
                g = step.out_grad if step.out_grad is not None else sp.S.Zero
                for i in range(H):
                    for j in range(H):
                        add(wn[i][j], dd[i] * step.h_prev[j])
                    for k in range(n_in):
                        add(un[i][k], dd[i] * step.x[k])
                    if bias:
                        add(bn[i], dd[i])
                    add(vn[i], g * step.h[i])
                if bias:
                    add("c", g)
            return [(p, out.get(p, sp.S.Zero)) for p in spec.params]

        verification, checks, how = _verify(spec, net, leaves0, grads, entries, method,
                                            "∂E/∂W, ∂E/∂U, ∂E/∂b, ∂E/∂v and ∂E/∂c")
        groups: tuple[StepGroup, ...] = ()
        weight_value = None
        if weight is not None:
            groups = _groups(spec, pv, steps, weight, wn, un, bn, vn, bases, st, deltas, outs)
            weight_value = as_float(grads[weight])
        totals = {"W": [[as_float(grads[w]) for w in row] for row in wn],
                  "U": [[as_float(grads[u]) for u in row] for row in un],
                  "b": [as_float(grads[b]) for b in bn] if bias else None,
                  "v": [as_float(grads[x]) for x in vn],
                  "c": as_float(grads["c"]) if bias else None}
        loss_value = as_float(val[loss])
    names = {"W": wn, "U": un, "b": bn or None, "v": vn, "c": "c" if bias else None}
    return BPTTForm(spec=spec, loss=loss, loss_value=loss_value, steps=tuple(steps),
                    totals=totals, names=names, activation=cfg["activation"],
                    verification=verification, checks=checks, path_sum_method=how,
                    weight=weight, groups=groups, weight_value=weight_value, values=leaves0)


def _groups(spec: Spec, pv: Any, steps: list[Step], weight: str, wn: list[list[str]],
            un: list[list[str]], bn: list[str], vn: list[str], bases: list[str], st: Any,
            deltas: Mapping[int, list[Any]], outs: Mapping[int, tuple[Any, Any]]
            ) -> tuple[StepGroup, ...]:
    """The paths of `weight` grouped by the step where it enters (the node after it), and
    within a step by the node they pass after z_t,i → h_t,i: unit m of step t + 1 (along
    w_{m}_{i}, row i of Wᵀ) or the output o_t (along v_i), as the mlp's bridge groups them."""
    graph = spec.graph
    loss = spec.loss
    counts = graph.path_counts(loss)
    val = pv.values
    sums: dict[str, list[Any]] = {}
    by_next: dict[tuple[str, str], list[Any]] = {}  # (z_t,i, the node after h_t,i) → terms
    for p in graph.paths(weight, loss) if counts[weight] <= 10_000 else ():
        term = _product(pv, p)
        sums.setdefault(p[1], []).append(term)
        if len(p) > 3:
            by_next.setdefault((p[1], p[3]), []).append(term)
    H = len(wn)  # noqa: N806
    T = len(steps)  # noqa: N806
    out = []
    for step in steps:
        t = step.step
        node, term, value = None, None, None
        unit, first, first_val = None, sp.S.One, mpmath.mpf(1)  # the z_t,i it enters, ∂z/∂w
        for i, row in enumerate(wn):
            for j, w in enumerate(row):
                if w == weight:
                    unit, first, first_val = i, step.h_prev[j], val[str(step.h_prev[j])]
        for i, row in enumerate(un):
            for k, u in enumerate(row):
                if u == weight:
                    unit, first, first_val = i, step.x[k], val[f"{bases[k]}{t}"]
        if weight in bn:
            unit = bn.index(weight)
        shared: tuple[sp.Expr, ...] = ()
        nexts: list[NextGroup] = []
        if unit is not None:
            i = unit
            node, term = st("z", t, i + 1), first * step.delta[i]
            value = _mul(first_val, deltas[t][i])
            shared = (*(() if first == 1 else (first,)), step.act_prime[i])
            common = _mul(first_val, pv.partials[(node, st("h", t, i + 1))])
            targets = []  # (node after h_t,i, edge, edge's value, δ symbol, δ value)
            if t < T:
                targets += [(st("z", t + 1, m + 1), step.W[m, i], val[wn[m][i]],
                             steps[t].delta[m], deltas[t + 1][m]) for m in range(H)]
            if step.out_grad is not None:
                targets.append((f"o{t}", step.v[i], val[vn[i]], sp.Symbol(f"g{t}", real=True),
                                outs[t][1]))
            for nxt, edge, edge_val, d, d_val in targets:
                listed_next = by_next.get((node, nxt))
                nexts.append(NextGroup(
                    node=nxt, edge=edge, term=edge * d, count=int(counts[nxt]),
                    value=as_float(_mul(common, _mul(edge_val, d_val))),
                    listed_value=None if listed_next is None else as_float(_add(listed_next))))
        if weight in vn or weight == "c":
            if step.out_grad is None:
                continue
            g = sp.Symbol(f"g{t}", real=True)
            node = f"o{t}"
            if weight == "c":
                term, value = g, outs[t][1]
            else:
                i = vn.index(weight)
                term, value = g * step.h[i], _mul(outs[t][1], val[str(step.h[i])])
        if node is None:
            continue
        listed = sums.get(node)
        out.append(StepGroup(step=t, node=node, term=term, count=int(counts[node]),
                             value=as_float(value),
                             listed_value=None if listed is None else as_float(_add(listed)),
                             shared=shared, next=tuple(nexts)))
    return tuple(out)

