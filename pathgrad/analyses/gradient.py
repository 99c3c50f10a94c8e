"""The whole gradient at once: ∂loss/∂p for every param by one reverse sweep over the DAG,
each entry checked against an independent derivative, and optional gradient-descent steps.

Reverse mode gives every name v its δ_v = ∂loss/∂v (δ_loss = 1, δ_v = Σ_children δ_c·∂c/∂v)
in one sweep from the loss back to the leaves, so all params come out together — the sum over
every path from each param, without listing any. Each entry is then compared with a
derivative computed another way:

- "symengine": for small networks, symengine's derivative of the composed loss by each param
  (a C++ CAS, milliseconds where sympy.diff takes seconds), brought back to sympy and evaluated
  exactly at the point ("sympy.diff" on request: the same with sympy itself);
- "complex-step": otherwise, Im loss(p + ih)/h with h = 1e-30 for every param (numpy, one
  column per param; see `gradient_check`), exact to float precision.

With a learning rate, `gradient` takes gradient-descent steps p ← p − η·∂loss/∂p on the params
matched by the `update` patterns, all from the same gradient (as Mazur's worked example does),
and reports the new values and the loss before and after each step.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath

from ..errors import UsageError, suggest
from ..numeric.evaluate import NoValue, to_mpf
from ..numeric.exact import plus, times, within_float
from ..numeric.points import DIGITS, as_float, point_values
from ..spec import Spec
from ..spec.model import apply_values
from ..verify.methods import Verification
from .budget import check_cone
from .gradient_check import complex_step

__all__ = ["Gradient", "DescentStep", "gradient", "reverse_sweep", "SYMPY_TREE_LIMIT",
           "TOLERANCE"]

SYMPY_TREE_LIMIT = 5_000  # a composed loss larger than this (as a tree): complex step instead
SYMPY_PARAMS_LIMIT = 400  # one sympy.diff per param: past this many, complex step instead
# relative to the Σ over paths of |term| of each param
TOLERANCE = {"symengine": 1e-20, "sympy.diff": 1e-20, "complex-step": 1e-9}
_FLOOR = mpmath.mpf(1e-300)  # differences below this are 0 (the oracles round there)


@dataclass(frozen=True)
class DescentStep:
    """One gradient-descent step: the gradient it used, the new values, the loss around it."""

    lr: float
    gradient: dict[str, float | None]  # ∂loss/∂p at the values before the step (every param)
    params: dict[str, float]  # the updated params' new values
    loss_before: float | None
    loss_after: float | None
    verification: Verification


@dataclass(frozen=True)
class Gradient:
    """∂loss/∂p for every param at one point, verified, and the descent steps if asked."""

    spec: Spec
    loss: str
    value: float | None  # the loss at the point
    gradient: dict[str, float | None]  # every param, in declaration order
    check: dict[str, float | None]  # the independent oracle's value for each param
    notes: dict[str, str]  # why a gradient entry is None
    paths: dict[str, int]  # paths from each param to the loss
    verification: Verification
    steps: tuple[DescentStep, ...] = ()
    update: tuple[str, ...] = ()  # the params the steps change
    values: dict[str, Fraction | None] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        """Every entry, at the point and at every step, equals the independent derivative."""
        return self.verification.verified and all(s.verification.verified for s in self.steps)

    @property
    def method(self) -> str:
        return self.verification.method


def reverse_sweep(spec: Spec, leaves: Mapping[str, Any], *, absolute: bool = False
                  ) -> tuple[Any, dict[str, Any]]:
    """(the loss's value, δ_v = ∂loss/∂v for every name) at the leaf values `leaves`, by one
    reverse sweep. With `absolute`, every local partial counts as |∂c/∂v|: δ_v is then
    Σ over paths of |product|, the scale of the rounding error of any way of adding them up.

    Call inside `mpmath.workdps(DIGITS)`. Values are exact (numeric.exact: Fractions where
    the arithmetic allows, Reals otherwise; kinks decided soundly) or NoValue; with `absolute`
    mpmath numbers.

    >>> from pathgrad import load
    >>> spec = load("params: {a: 2, b: 1}\\nnodes: {c: a + b, d: b + 1, e: c * d}")
    >>> with mpmath.workdps(DIGITS):
    ...     value, delta = reverse_sweep(spec, spec.values())
    >>> float(value), float(delta["a"]), float(delta["b"])
    (6.0, 2.0, 5.0)
    """
    value, delta, scale = _sweeps(spec, leaves, absolute)
    return value, (scale if absolute else delta)


def _sweeps(spec: Spec, leaves: Mapping[str, Any], absolute: bool = True
            ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The loss's value, every δ (exact), and (with `absolute`) every Σ|path term| (mpmath),
    from one evaluation of the local partials."""
    graph = spec.graph
    loss = spec.loss
    needed = graph.ancestors_and_self(loss)
    nodes = [n for n in graph.order if n in needed and n in spec.nodes]
    pv = point_values(spec, leaves, nodes, upto=loss)  # exact: relu′(0) is decided, not rounded
    exact = pv.exact_partials
    approx = pv.partials if absolute else {}
    delta: dict[str, Any] = {loss: Fraction(1)}
    scale: dict[str, Any] = {loss: mpmath.mpf(1)}
    for n in reversed(nodes):
        d = delta.get(n)
        if d is None:
            continue
        a = scale[n] if absolute else None
        for u in graph.deps(n):
            term = times([d, exact[(u, n)]])
            delta[u] = term if u not in delta else plus([delta[u], term])
            if absolute:
                part = approx[(u, n)]
                mag = part if isinstance(part, NoValue) else abs(part)
                scale[u] = _plus(scale.get(u), _times(a, mag))
    return pv.exact_values[loss], delta, scale


def _plus(a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if isinstance(a, NoValue) else (b if isinstance(b, NoValue) else a + b)


def _times(a: Any, b: Any) -> Any:
    return a if isinstance(a, NoValue) else (b if isinstance(b, NoValue) else a * b)


def _as_fraction(x: Any) -> Fraction:
    """A new param value as an exact rational (a Real's 40-digit value) for the next point."""
    if isinstance(x, Fraction):
        return x
    return Fraction(mpmath.nstr(to_mpf(x), 40, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))


def _patterns(spec: Spec, update: str | Sequence[str] | None) -> tuple[str, ...]:
    """The params matched by the glob patterns (comma-separated or a list); default all."""
    if update is None:
        return tuple(spec.params)
    pats = [p.strip() for p in (update.split(",") if isinstance(update, str) else update)]
    pats = [p for p in pats if p]
    if not pats:
        raise UsageError("--update is empty", None, "give a glob such as 'w*' or 'w*,b*'")
    out = tuple(p for p in spec.params if any(fnmatch.fnmatchcase(p, pat) for pat in pats))
    if not out:
        hint = suggest(pats[0], spec.params) or "the params are " + ", ".join(
            [*spec.params][:8]) + (", …" if len(spec.params) > 8 else "")
        raise UsageError(f"--update '{','.join(pats)}' matches no param of {spec.source}", None,
                         hint)
    return out


def _check_values(spec: Spec, leaves: Mapping[str, Fraction | None]) -> None:
    needed = spec.graph.ancestors_and_self(spec.loss)
    missing = [n for n, v in leaves.items() if v is None and n in needed]
    if missing:
        more = f" (and {len(missing) - 1:,} more)" if len(missing) > 1 else ""
        raise UsageError(f"the gradient is a number at a point, but '{missing[0]}'{more} has no "
                         f"value in {spec.source}", None,
                         f"give it one in `inputs:`/`params:` or with --set {missing[0]}=0.5")


def _choose_method(spec: Spec) -> str:
    """symengine's derivative per param when that is cheap, else the complex step."""
    if len(spec.params) > SYMPY_PARAMS_LIMIT:
        return "complex-step"
    from ..calculus import EngineError, Network, symengine_tree_size

    net = Network(spec, spec.graph)
    try:
        composed = net.compose_symengine(spec.loss)
    except EngineError:
        return "complex-step"
    size = symengine_tree_size(composed[spec.loss], SYMPY_TREE_LIMIT)
    return "symengine" if size <= SYMPY_TREE_LIMIT else "complex-step"


class _Oracle:
    """The independent derivative of the loss by each param, at any point: the complex step,
    or a CAS's derivative of the composed loss (symengine, or sympy.diff) evaluated exactly."""

    def __init__(self, spec: Spec, method: str) -> None:
        self.spec = spec
        self.method = method
        self._diffs: dict[str, Any] | None = None
        self.network: Any = None

    def derivatives(self) -> dict[str, Any]:
        """∂loss/∂p for every param as sympy expressions in the leaves (computed once)."""
        if self._diffs is None:

            from ..calculus import Network, from_symengine, partial, symengine_derivative

            net = self.network = Network(self.spec, self.spec.graph)
            params = list(self.spec.params)
            if self.method == "symengine":
                composed = net.compose_symengine(self.spec.loss)[self.spec.loss]
                memo: dict[Any, Any] = {}
                self._diffs = {p: from_symengine(symengine_derivative(
                    composed, net.se_symbols[p]), net.symbols, memo) for p in params}
            else:
                composed = net.compose(self.spec.loss)[self.spec.loss]
                self._diffs = {p: partial(composed, net.symbols[p]) for p in params}
        return self._diffs

    def at(self, leaves: Mapping[str, Any]) -> dict[str, Any]:
        """∂loss/∂p for every param: floats (complex step) or exact numbers (a CAS's
        derivative), None where undefined."""
        params = list(self.spec.params)
        if self.method == "complex-step":
            return complex_step(self.spec, leaves, params)
        from ..numeric.evaluate import evaluate
        from ..numeric.exact import ExactAlgebra

        diffs = self.derivatives()
        symbols = self.network.symbols
        alg = ExactAlgebra()  # as the reverse sweep: the same decision at a kink
        env = {symbols[n]: Fraction(v) for n, v in leaves.items() if v is not None}
        out: dict[str, Any] = {}
        memo: dict[int, Any] = {}
        for p in params:
            v = evaluate(diffs[p], env, alg, memo)
            out[p] = None if as_float(v) is None else v
        return out


def _compare(grad: Mapping[str, Any], scale: Mapping[str, Any],
             check: Mapping[str, Any], method: str, spec: Spec) -> Verification:
    """Every entry against the oracle, within TOLERANCE of its paths' Σ|term|."""
    tol = TOLERANCE[method]
    worst = 0.0
    for p in spec.params:
        g, c = grad.get(p), check.get(p)
        if isinstance(g, NoValue) and c is None:
            continue  # undefined by both: they agree (the loss is undefined at the point)
        if isinstance(g, NoValue) or g is None or c is None:
            why = g.reason if isinstance(g, NoValue) else "the check is undefined there"
            return Verification(False, method, f"∂{spec.loss}/∂{p} cannot be checked at this "
                                f"point: {why}")
        s = scale.get(p)
        # in mpmath: a Σ|term| of 10⁻⁴⁰⁰ (20,000 cosines) is 0.0 as a float
        size = to_mpf(s) if s is not None and not isinstance(s, NoValue) else mpmath.mpf(0)
        bound = tol * max(size, _FLOOR)
        diff = mpmath.mpf(abs(float(g) - c)) if method == "complex-step" else \
            abs(to_mpf(g) - to_mpf(c))
        if diff > bound and diff > _FLOOR:
            return Verification(False, method, f"∂{spec.loss}/∂{p} by reverse mode "
                                f"({mpmath.nstr(to_mpf(g), 12)}) DIFFERS from the {_what(method)} "
                                f"({mpmath.nstr(to_mpf(c), 12)})")
        if size:
            worst = max(worst, float(diff / size))
    n = len(spec.params)
    undefined = sum(1 for p in spec.params if isinstance(grad.get(p), NoValue))
    if undefined == n:
        return Verification(True, method, f"nothing to compare: {spec.loss} is undefined at "
                            f"the point, and so is every ∂{spec.loss}/∂p")
    return Verification(True, method, f"each of the {n:,} entries equals the "
                        f"{_what(method)} (largest difference {worst:.1e} of Σ|path terms|, "
                        f"tolerance {tol:.0e})" + (f"; {undefined:,} undefined on both sides"
                                                   if undefined else ""), worst or None)


def _what(method: str) -> str:
    if method in ("sympy.diff", "symengine"):
        return f"value of {method}'s derivative of the composed loss by that param"
    return "complex-step derivative Im E(p + ih)/h, h = 1e-30"


def gradient(spec: Spec, values: Mapping[str, object] | None = None, *,
             lr: float | Fraction | None = None, steps: int = 1,
             update: str | Sequence[str] | None = None,
             method: str | None = None) -> Gradient:
    """Every param's ∂loss/∂p by reverse mode at the spec's point (with `values` applied),
    each checked by `method` ("symengine", "sympy.diff" or "complex-step"; default: symengine
    for small nets, else the complex step).

    With `lr`, `steps` gradient-descent steps on the params matching `update` (glob patterns,
    comma-separated; default every param).

    >>> from pathgrad import load
    >>> spec = load("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {h: w*x, E: h^2 + w}")
    >>> gr = gradient(spec, lr=0.01)
    >>> gr.value, gr.gradient, gr.verified, gr.steps[0].params
    (39.0, {'w': 25.0}, True, {'w': 2.75})
    """
    if lr is None and (update is not None or steps != 1):
        raise UsageError("--update and --steps need a learning rate", None, "add --lr 0.5")
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, not {steps}")
    leaves0 = apply_values(spec, values)
    _check_values(spec, leaves0)
    check_cone(spec, None)
    chosen = tuple(_patterns(spec, update)) if lr is not None else ()
    method = method or _choose_method(spec)
    if method not in TOLERANCE:
        raise UsageError(f"unknown verification method '{method}'", None,
                         "use symengine, sympy.diff or complex-step")
    oracle = _Oracle(spec, method)
    graph = spec.graph
    counts = graph.path_counts(spec.loss)
    with mpmath.workdps(DIGITS):
        leaves: dict[str, Any] = dict(leaves0)
        first = _point(spec, leaves, oracle, method)
        taken: list[DescentStep] = []
        current = first
        for _ in range(steps if lr is not None else 0):
            rate = Fraction(str(lr)) if isinstance(lr, float) else Fraction(lr)
            new = dict(leaves)
            for p in chosen:
                g = current["delta"].get(p, Fraction(0))
                if isinstance(g, NoValue):
                    raise UsageError(f"cannot take a step: ∂{spec.loss}/∂{p} is undefined at "
                                     f"the point ({g.reason})")
                new[p] = _as_fraction(plus([Fraction(leaves[p]), times([-rate, g])]))
            last = len(taken) == steps - 1
            after = _point(spec, new, oracle, method, check=not last)
            taken.append(DescentStep(
                lr=float(lr),
                gradient=current["floats"], params={p: float(new[p]) for p in chosen},
                loss_before=as_float(current["value"]), loss_after=as_float(after["value"]),
                verification=current["verification"]))
            leaves, current = new, after
    shown = {p: within_float(g) for p, g in first["delta"].items() if p in spec.params}
    notes = {p: g.reason for p, g in shown.items() if isinstance(g, NoValue)}
    return Gradient(spec=spec, loss=spec.loss, value=as_float(first["value"]),
                    gradient=first["floats"], check=first["check"], notes=notes,
                    paths={p: int(counts.get(p, 0)) for p in spec.params},
                    verification=first["verification"], steps=tuple(taken), update=chosen,
                    values=leaves0)


def _point(spec: Spec, leaves: Mapping[str, Any], oracle: _Oracle, method: str,
           check: bool = True) -> dict[str, Any]:
    """The loss, the gradient by reverse mode, its Σ|term| scale and the oracle's check
    (without `check`: only the loss, after the last step)."""
    if not check:
        with mpmath.workdps(DIGITS):
            pv = point_values(spec, leaves, (), upto=spec.loss)
            return {"value": pv.exact_values[spec.loss]}
    value, delta, scale = _sweeps(spec, leaves)
    delta = {p: delta.get(p, Fraction(0)) for p in spec.params}
    oracle_values = oracle.at(leaves)
    if isinstance(value, NoValue):  # where the loss is undefined, so is every ∂loss/∂p
        delta = {p: value for p in spec.params}
        oracle_values = {p: None for p in spec.params}
    return {"value": value, "delta": delta,
            # a nonzero below a float (20,000 cosines) is a note, as in explain, not 0
            "floats": {p: as_float(within_float(g)) for p, g in delta.items()},
            "check": {p: None if c is None else float(c) for p, c in oracle_values.items()},
            "verification": _compare(delta, scale, oracle_values, method, spec)}
