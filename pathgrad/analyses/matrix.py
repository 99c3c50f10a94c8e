"""From paths to matrices: how the sum over paths becomes Nielsen's four backprop equations.

For a net made by the `mlp` builder, layer l has z^l = W^l a^{l−1} + b^l and a^l = σ(z^l)
(names z{l}_{j}, a{l}_{j}, w{l}_{j}_{k}, b{l}_{j}); the loss is E. Backprop in matrix form:

- BP1  δ^L = ∇_a E ⊙ σ′(z^L)   (softmax + cross-entropy: δ^L = a^L·Σ_i y_i − y, = a^L − y
  when the targets add up to 1)
- BP2  δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ′(z^l)
- BP3  ∂E/∂b^l_j = δ^l_j  (one bias per layer: ∂E/∂b^l = Σ_j δ^l_j)
- BP4  ∂E/∂w^l_{jk} = a^{l−1}_k δ^l_j, i.e. ∂E/∂W^l = δ^l (a^{l−1})ᵀ

with δ^l_j = ∂E/∂z^l_j. The bridge to the sum over paths: δ^l_j is the sum over every path from
z^l_j to E. Each such path goes z^l_j → a^l_j (the factor σ′(z^l_j)) and then along one weight
w^{l+1}_{ij} into some unit i of layer l+1, after which it is one of δ^{l+1}_i's paths; grouping
the paths by that next unit i gives Σ_i w^{l+1}_{ij} δ^{l+1}_i, and the weights w^{l+1}_{ij} for
fixed j are column j of W^{l+1}, i.e. row j of its transpose. The transpose is the list of the
weights that leave unit j, sorted by where they go next.

Every gradient entry is checked three ways: the matrix equations, the sum over its paths
(listed when there are few, else by scalar reverse mode over the DAG) and the direct derivative
(symengine's derivative of the composed loss per param, or the complex step for big nets);
for small nets the matrix-form expression is also proved equal to that derivative as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network, tree_size
from ..errors import UsageError, suggest
from ..numeric.evaluate import NoValue, to_mpf
from ..numeric.points import DIGITS, as_float, point_values
from ..spec import Spec
from ..spec.model import apply_values
from ..verify.methods import Verification, verify
from .budget import check_cone
from .gradient import _check_values, _choose_method, _Oracle, _sweeps

__all__ = ["Layer", "PathRow", "PathGroup", "Bridge", "MatrixForm", "matrix_form", "Checked",
           "CONVENTION", "LIST_LIMIT", "BRIDGE_ROWS", "delta_name"]

CONVENTION = ("Nielsen's: w{l}_{j}_{k} = w^l_jk joins unit k of layer l−1 to unit j of layer l, "
              "so in W^l row j is the unit the weight enters and column k the unit it leaves; "
              "z^l = W^l a^{l−1} + b^l, a^l = σ(z^l), δ^l_j = ∂E/∂z^l_j; gradients in numerator "
              "layout: ∂E/∂W^l has the shape of W^l, entry (j, k) = ∂E/∂w^l_jk")
LIST_LIMIT = 10_000  # paths of one param listed and added up one by one, at most
LIST_TOTAL = 100_000  # … and of all params together (the rest: scalar reverse mode)
BRIDGE_ROWS = 64  # paths of --weight shown one by one, at most (the groups always)
IDENTITY_PARAMS = 200  # symbolic proof of each entry only for nets with at most this many
TOLERANCE = {"symengine": 1e-20, "sympy.diff": 1e-20, "complex-step": 1e-9}  # of Σ|path terms|


def delta_name(layer: int, unit: int) -> str:
    """The symbol of δ^l_j in expressions: delta{l}_{j} (sympy parses it back)."""
    return f"delta{layer}_{unit}"


@dataclass(frozen=True)
class Layer:
    """One layer l: its names as sympy matrices, the four equations' pieces, their values."""

    layer: int
    units: int
    fan_in: int
    activation: str
    W: sp.Matrix  # n_l × n_{l−1}, entry (j, k) the symbol w{l}_{j}_{k}
    a_prev: sp.Matrix  # n_{l−1} × 1: a^{l−1} (the inputs for l = 1)
    b: sp.Matrix | sp.Symbol | None  # n_l × 1 (bias: unit), one symbol (layer) or None
    z: sp.Matrix  # n_l × 1
    a: sp.Matrix  # n_l × 1
    delta: sp.Matrix  # n_l × 1 of δ symbols
    sigma_prime: sp.Matrix | None  # σ′(z^l) in node names (None for a softmax layer)
    delta_expr: sp.Matrix  # δ^l_j in node names and the δ symbols of layer l + 1
    grad_W_expr: sp.Matrix  # δ^l (a^{l−1})ᵀ in δ symbols and node names
    values: dict[str, Any]  # floats: "W", "a_prev", "z", "a", "sigma_prime", "b"
    delta_values: tuple[float | None, ...]
    grad_W: tuple[tuple[float | None, ...], ...]
    grad_b: tuple[float | None, ...] | float | None
    paths_per_delta: tuple[int, ...]
    bias_mode: str
    delta_shown: sp.Matrix | None = None  # δ^L as printed when simpler at this point (a − y)

    @property
    def shown_delta_expr(self) -> sp.Matrix:
        """δ^l_j as printed for people: `delta_shown` when set, else `delta_expr`."""
        return self.delta_expr if self.delta_shown is None else self.delta_shown

    @property
    def shape(self) -> tuple[int, int]:
        """The shape of W^l: (n_l, n_{l−1})."""
        return (self.units, self.fan_in)

    def weight(self, j: int, k: int) -> str:
        return str(self.W[j - 1, k - 1])

    def bias_names(self) -> list[str]:
        if self.b is None:
            return []
        if isinstance(self.b, sp.Symbol):
            return [self.b.name]
        return [str(x) for x in self.b]


@dataclass(frozen=True)
class PathRow:
    """One path of the bridge: its names and the local partials along it (weight first)."""

    nodes: tuple[str, ...]
    factors: tuple[sp.Expr, ...]
    value: float | None


@dataclass(frozen=True)
class PathGroup:
    """The paths that pass one unit next: unit i of layer l+1 (hidden), output a^L_i (the
    output layer), or unit j of layer l (a layer bias)."""

    unit: int
    node: str  # the node that names the group: z{l+1}_{i}, a{L}_{i} or z{l}_{j}
    edge: sp.Expr | None  # the factor that starts the group: w{l+1}_{i}_{j}, or None
    term: sp.Expr  # the group's sum without the factors all paths share: w·delta{l+1}_{i} …
    count: int  # paths in the group
    value: float | None  # the group's sum from the δ's (shared factors included)
    listed_value: float | None  # the same, adding up its listed paths (None if not listed)
    paths: tuple[PathRow, ...]  # listed, at most BRIDGE_ROWS over all groups


@dataclass(frozen=True)
class Bridge:
    """∂E/∂param as one entry of the matrix form and as the sum over its paths, grouped."""

    param: str
    kind: str  # "weight" | "bias" | "layer bias"
    layer: int
    row: int | None  # j
    column: int | None  # k (weights)
    entry: sp.Expr  # a{l−1}_{k}·delta{l}_{j}, delta{l}_{j} or Σ_j delta{l}_{j}
    value: float | None
    path_count: int
    groups: tuple[PathGroup, ...]
    listed: int  # how many paths are shown one by one
    first_factor: sp.Expr | None  # ∂z^l_j/∂param: a^{l−1}_k (BP4) or 1 (BP3); None: layer bias
    sigma_prime: sp.Expr | None  # ∂a^l_j/∂z^l_j, shared by every path (the ⊙ in BP2)
    listing_multiplications: int | None  # to list every path and multiply along it
    matrix_multiplications: int  # from the δ's of layer l+1 (or ∇_a E) to this entry


class Checked:
    """`verified` and `method` of a record with a `verification` (the mlp's and the rnn's)."""

    verification: Verification

    @property
    def verified(self) -> bool:
        return self.verification.verified

    @property
    def method(self) -> str:
        return self.verification.method


@dataclass(frozen=True)
class MatrixForm(Checked):
    """The whole gradient of a layered net in matrix form, checked entry by entry."""

    spec: Spec
    loss: str
    loss_value: float | None
    loss_kind: str  # mse | cross_entropy | bce
    targets: tuple[str, ...]
    layers: tuple[Layer, ...]  # l = 1 … L
    grad_a: sp.Matrix  # ∇_a E in node names (n_L × 1): ∂E/∂a^L_j with the other outputs fixed
    verification: Verification
    checks: dict[str, dict[str, float | None]]  # param → matrix, paths, direct
    path_sum_method: dict[str, str]  # param → "listed" | "reverse mode"
    matrix_multiplications: int
    listing_multiplications: int
    bridge: Bridge | None = None
    values: dict[str, Fraction | None] = field(default_factory=dict)
    convention: str = CONVENTION
    delta_note: str | None = None  # why δ^L is printed as a − y (the targets add up to 1)

    @property
    def softmax(self) -> bool:
        return self.layers[-1].activation == "softmax"


# --- the layered structure ---------------------------------------------------------------


def _settings(spec: Spec) -> dict[str, Any]:
    """The mlp builder's settings, or a one-line refusal pointing to `pathgrad backprop`."""
    builders = spec.meta.get("builders") or []
    settings = spec.meta.get("mlp")
    if builders == ["mlp"] and isinstance(settings, dict):
        return settings
    what = ("a nodes-form network" if not builders else
            f"made by {' + '.join(builders)}" + (" (a batch of copies, not one layered net)"
                                                 if "batch" in builders else ""))
    if builders == ["rnn"]:
        what = "an rnn (its matrix form is analyses.matrix_bptt.bptt_form)"
    raise UsageError(f"`pathgrad matrix` needs a layered net made by an `mlp:` block; "
                     f"{spec.source} is {what}", None,
                     "for the scalar δ's of any network use `pathgrad backprop SPEC --weight "
                     "NAME`")


def _sym(net: Network, name: str) -> sp.Symbol:
    return net.symbols[name]


def _floats(xs: Any) -> list[float | None]:
    return [as_float(x) for x in xs]


def _mul(a: Any, b: Any) -> Any:
    return a if isinstance(a, NoValue) else (b if isinstance(b, NoValue) else a * b)


def _add(xs: list[Any]) -> Any:
    bad = next((x for x in xs if isinstance(x, NoValue)), None)
    return bad if bad is not None else mpmath.fsum(xs)


def _delta_symbols(spec: Spec, widths: list[int]) -> dict[tuple[int, int], sp.Symbol]:
    taken = set(spec.names)
    out = {}
    for l, n in enumerate(widths[1:], 1):  # noqa: E741 - l is the layer
        for j in range(1, n + 1):
            name = delta_name(l, j)
            if name in taken:
                raise UsageError(f"the name '{name}' in {spec.source} is what `pathgrad matrix` "
                                 "calls δ; rename it")
            out[(l, j)] = sp.Symbol(name, real=True)
    return out


def matrix_form(spec: Spec, values: Mapping[str, object] | None = None, *,
                weight: str | None = None, network: Network | None = None,
                method: str | None = None) -> MatrixForm:
    """BP1–BP4 for an mlp-built `spec` at its point (with `values` applied), every entry
    checked; with `weight`, the bridge from its paths to its entry of δ^l (a^{l−1})ᵀ.

    >>> from pathgrad import load
    >>> mf = matrix_form(load("examples/mazur.yaml"), weight="w1_1_1")
    >>> [len(layer.delta_values) for layer in mf.layers], mf.verified
    ([2, 2], True)
    >>> [g.node for g in mf.bridge.groups], mf.bridge.path_count
    (['z2_1', 'z2_2'], 2)
    """
    cfg = _settings(spec)
    leaves0 = apply_values(spec, values)
    _check_values(spec, leaves0)
    check_cone(spec, None)  # BP1–BP4 are every param's gradient
    if weight is not None:
        _check_bridge_weight(spec, weight)
    net = network or Network(spec, spec.graph)
    inputs = list(cfg["inputs"])
    widths = [len(inputs), *cfg["layers"]]
    acts = list(cfg["activation"])
    bias_mode = cfg["bias"]
    targets = tuple(cfg["targets"])
    L = len(widths) - 1  # noqa: N806 - the textbook's L
    loss = spec.loss
    dsym = _delta_symbols(spec, widths)
    graph = spec.graph
    counts = graph.path_counts(loss)
    note: str | None = None
    shown: sp.Matrix | None = None

    def prev_names(l: int) -> list[str]:  # noqa: E741
        return inputs if l == 1 else [f"a{l - 1}_{k}" for k in range(1, widths[l - 1] + 1)]

    with mpmath.workdps(DIGITS):
        pv = point_values(spec, leaves0)
        val = pv.values
        # BP1: ∇_a E and δ^L, symbolically and as numbers
        nL = widths[L]
        outs = [f"a{L}_{j}" for j in range(1, nL + 1)]
        zL = [f"z{L}_{j}" for j in range(1, nL + 1)]
        grad_a = sp.Matrix([net.local_partial(a, loss) for a in outs])
        if acts[-1] == "softmax":
            ysum = sp.Add(*(_sym(net, y) for y in targets))
            deltaL_expr = [_sym(net, a) * ysum - _sym(net, y) for a, y in zip(outs, targets)]
            ysum_val = _add([val[y] for y in targets])
            deltaL = [_add([_mul(val[a], ysum_val), -val[y]]) for a, y in zip(outs, targets)]
            note = _sums_to_one(leaves0, targets)
            if note:  # a·Σy − y is exact for any targets; a − y only where Σy = 1
                shown = sp.Matrix([_sym(net, a) - _sym(net, y) for a, y in zip(outs, targets)])
        else:
            sig = [net.local_partial(z, a) for z, a in zip(zL, outs)]
            deltaL_expr = [_simpler(g * s) for g, s in zip(grad_a, sig)]
            deltaL = [_mul(pv.partials[(a, loss)], pv.partials[(z, a)]) for z, a in zip(zL, outs)]
        deltas: dict[int, list[Any]] = {L: deltaL}
        delta_exprs: dict[int, list[sp.Expr]] = {L: deltaL_expr}
        sigmas: dict[int, list[sp.Expr] | None] = {}
        sigma_vals: dict[int, list[Any] | None] = {}
        for l in range(L, 0, -1):  # noqa: E741
            n = widths[l]
            if acts[l - 1] == "softmax":
                sigmas[l], sigma_vals[l] = None, None
            else:
                sigmas[l] = [net.local_partial(f"z{l}_{j}", f"a{l}_{j}") for j in range(1, n + 1)]
                sigma_vals[l] = [pv.partials[(f"z{l}_{j}", f"a{l}_{j}")]
                                 for j in range(1, n + 1)]
            if l == L:
                continue
            m = widths[l + 1]
            # BP2: δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ′(z^l), one row of the transpose per unit j
            exprs, nums = [], []
            for j in range(1, n + 1):
                col = [(f"w{l + 1}_{i}_{j}", i) for i in range(1, m + 1)]
                back = sp.Add(*(_sym(net, w) * dsym[(l + 1, i)] for w, i in col))
                exprs.append(back * sigmas[l][j - 1])  # type: ignore[index]
                back_val = _add([_mul(val[w], deltas[l + 1][i - 1]) for w, i in col])
                nums.append(_mul(back_val, sigma_vals[l][j - 1]))  # type: ignore[index]
            deltas[l], delta_exprs[l] = nums, exprs

        layers = []
        grads: dict[str, Any] = {}
        for l in range(1, L + 1):  # noqa: E741
            n, k_n = widths[l], widths[l - 1]
            prev = prev_names(l)
            Wn = [[f"w{l}_{j}_{k}" for k in range(1, k_n + 1)] for j in range(1, n + 1)]
            W = sp.Matrix([[_sym(net, w) for w in row] for row in Wn])
            a_prev = sp.Matrix([_sym(net, p) for p in prev])
            dvec = sp.Matrix([dsym[(l, j)] for j in range(1, n + 1)])
            gW = [[_mul(deltas[l][j], val[prev[k]]) for k in range(k_n)] for j in range(n)]
            for j in range(n):
                for k in range(k_n):
                    grads[Wn[j][k]] = gW[j][k]
            b: sp.Matrix | sp.Symbol | None
            gb: tuple[float | None, ...] | float | None
            if bias_mode == "unit":
                bn = [f"b{l}_{j}" for j in range(1, n + 1)]
                b = sp.Matrix([_sym(net, x) for x in bn])
                gb = tuple(_floats(deltas[l]))
                for name, d in zip(bn, deltas[l]):
                    grads[name] = d
                bvals: Any = [as_float(val[x]) for x in bn]
            elif bias_mode == "layer":
                b = _sym(net, f"b{l}")
                total = _add(list(deltas[l]))
                gb = as_float(total)
                grads[f"b{l}"] = total
                bvals = as_float(val[f"b{l}"])
            else:
                b, gb, bvals = None, None, None
            zs = [f"z{l}_{j}" for j in range(1, n + 1)]
            layers.append(Layer(
                layer=l, units=n, fan_in=k_n, activation=acts[l - 1], W=W, a_prev=a_prev, b=b,
                z=sp.Matrix([_sym(net, z) for z in zs]),
                a=sp.Matrix([_sym(net, f"a{l}_{j}") for j in range(1, n + 1)]),
                delta=dvec,
                sigma_prime=None if sigmas[l] is None else sp.Matrix(sigmas[l]),
                delta_expr=sp.Matrix(delta_exprs[l]),
                grad_W_expr=dvec * a_prev.T,
                values={"W": [[as_float(val[w]) for w in row] for row in Wn],
                        "a_prev": _floats(val[p] for p in prev),
                        "z": _floats(val[z] for z in zs),
                        "a": _floats(val[f"a{l}_{j}"] for j in range(1, n + 1)),
                        "sigma_prime": None if sigma_vals[l] is None else _floats(sigma_vals[l]),
                        "b": bvals},
                delta_values=tuple(_floats(deltas[l])),
                grad_W=tuple(tuple(as_float(x) for x in row) for row in gW),
                grad_b=gb,
                paths_per_delta=tuple(int(counts[z]) for z in zs),
                bias_mode=bias_mode, delta_shown=shown if l == L else None))

        verification, checks, how = _verify(spec, net, leaves0, grads,
                                            lambda: mlp_entries(layers, dsym), method)
        bridge = _bridge(spec, net, pv, layers, weight, widths, acts, deltas, grad_a) \
            if weight else None
        loss_value = as_float(val[loss])
    return MatrixForm(
        spec=spec, loss=loss, loss_value=loss_value, loss_kind=cfg["loss"], targets=targets,
        layers=tuple(layers), grad_a=grad_a, verification=verification, checks=checks,
        path_sum_method=how, matrix_multiplications=_matrix_cost(widths, acts),
        listing_multiplications=_listing_cost(spec), bridge=bridge, values=leaves0,
        delta_note=note)


def _sums_to_one(leaves: Mapping[str, Fraction | None], targets: Sequence[str]) -> str | None:
    """Why δ^L = a^L − y may be printed: the targets are numbers adding up to exactly 1."""
    ys = [leaves.get(y) for y in targets]
    if any(v is None for v in ys) or sum(ys, Fraction(0)) != 1:  # type: ignore[arg-type]
        return None
    return (f"δ^L = a^L·({' + '.join(targets)}) − y, exact for any targets, is a^L − y here: "
            f"the targets are numbers and {' + '.join(targets)} = 1 at this point")


def _simpler(expr: sp.Expr) -> sp.Expr:
    """δ^L written as simply as sympy can (−y/a·a(1−a) → a·y − y …), if that is shorter."""
    if tree_size(expr, 200) > 200:
        return expr
    other = sp.factor(sp.cancel(expr))
    return other if sp.count_ops(other) < sp.count_ops(expr) else expr


def _check_bridge_weight(spec: Spec, weight: str) -> None:
    if weight in spec.params:
        return
    hint = suggest(weight, spec.params) or "for example --weight " + next(iter(spec.params))
    what = "a node" if weight in spec.nodes else (
        "an input" if weight in spec.inputs else "not a name")
    raise UsageError(f"--weight '{weight}' is {what} in {spec.source}; the bridge is drawn for "
                     "a weight w{l}_{j}_{k} or a bias", None, hint)


# --- counting ------------------------------------------------------------------------------


def _matrix_cost(widths: list[int], acts: list[str]) -> int:
    """Multiplications of BP1–BP4 for the whole gradient (local partials taken as given, as
    in listing): n_L for BP1, n_{l+1}·n_l + n_l for BP2, n_l·n_{l−1} for BP4."""
    L = len(widths) - 1  # noqa: N806
    total = widths[L]  # BP1: ∇_a E ⊙ σ′, or a·Σy for softmax
    for l in range(1, L + 1):  # noqa: E741
        total += widths[l] * widths[l - 1]  # BP4
        if l < L:
            total += widths[l + 1] * widths[l] + widths[l]  # BP2
    return total


def _listing_cost(spec: Spec) -> int:
    """Multiplications to list every path of every param and multiply its partials: a path
    of m edges costs m − 1. One DP over the DAG: N(v) paths and S(v) edges in total."""
    graph = spec.graph
    loss = spec.loss
    counts = graph.path_counts(loss)
    succ = graph.successors()
    edges: dict[str, int] = {loss: 0}
    for n in reversed(graph.order):
        if n == loss or not counts[n]:
            continue
        edges[n] = sum(edges[c] + counts[c] for c in succ[n] if counts[c])
    return sum(edges[p] - counts[p] for p in spec.params if counts[p])


# --- checking ------------------------------------------------------------------------------


def _verify(spec: Spec, net: Network, leaves: Mapping[str, Any], grads: Mapping[str, Any],
            entries: Callable[[], list[tuple[str, sp.Expr]]], method: str | None,
            what: str = "∂E/∂W and ∂E/∂b"
            ) -> tuple[Verification, dict[str, dict[str, float | None]], dict[str, str]]:
    """Each entry against the sum over its paths and the direct derivative; for small nets
    also the matrix-form expression against sympy's derivative, as functions."""
    loss = spec.loss
    graph = spec.graph
    counts = graph.path_counts(loss)
    loss_value, scalar, scale = _sweeps(spec, leaves)
    composed = net.compose(loss)
    method = method or _choose_method(spec)
    oracle = _Oracle(spec, method)
    direct = oracle.at(leaves)
    if isinstance(loss_value, NoValue):  # where the loss is undefined, so is its derivative
        direct = {p: None for p in direct}
    tol = TOLERANCE[method]
    pv = point_values(spec, leaves)
    checks: dict[str, dict[str, float | None]] = {}
    how: dict[str, str] = {}
    order = [p for p in spec.params if p in grads]
    missing = [p for p in spec.params if p not in grads]
    if missing:
        return (Verification(False, "none", f"the matrix form has no entry for {missing[0]}"),
                {}, {})
    failure = None
    worst = 0.0
    budget = LIST_TOTAL  # paths listed one by one over all params, at most
    for p in order:
        m = grads[p]
        if counts[p] <= LIST_LIMIT and budget >= counts[p]:
            budget -= counts[p]
            path_sum = _add([_product(pv, path) for path in graph.paths(p, loss)]) \
                if counts[p] else mpmath.mpf(0)
            how[p] = "listed"
        else:
            path_sum = scalar.get(p, mpmath.mpf(0))
            path_sum = path_sum if isinstance(path_sum, NoValue) else to_mpf(path_sum)
            how[p] = "reverse mode"
        d = direct.get(p)
        checks[p] = {"matrix": as_float(m), "paths": as_float(path_sum),
                     "direct": None if d is None else float(d)}
        if failure:
            continue
        bad = next((x for x in (m, path_sum) if isinstance(x, NoValue)), None)
        if bad is not None and d is None and isinstance(m, NoValue) \
                and isinstance(path_sum, NoValue):
            continue  # undefined by all three: they agree (the loss is undefined there)
        if bad is not None or d is None:
            failure = Verification(False, method, f"∂{loss}/∂{p} cannot be checked at this "
                                   f"point: {bad.reason if bad else 'undefined'}")
            continue
        s = float(scale.get(p, 0) or 0)
        bound = max(s, 1e-300)
        for against, other in (("the sum over its paths", path_sum),
                               ("the direct derivative", d if method == "complex-step" else
                                to_mpf(d))):
            direct_one = against == "the direct derivative"
            diff = float(abs(m - other)) if method != "complex-step" or not direct_one \
                else abs(float(m) - float(other))
            tol_here = tol if direct_one else 1e-20
            if diff > tol_here * bound and diff > 1e-300:
                failure = Verification(False, method, f"∂{loss}/∂{p} in matrix form "
                                       f"({mpmath.nstr(m, 12)}) DIFFERS from {against} "
                                       f"({mpmath.nstr(other, 12)})")
                break
            if s:
                worst = max(worst, diff / s)
    if failure:
        return failure, checks, how
    n = len(order)
    listed = sum(1 for p in order if how[p] == "listed")
    paths = ("the sum over its paths (listed one by one)" if listed == n else
             f"the sum over its paths ({listed:,} listed one by one, the rest by scalar reverse "
             "mode over the DAG)")
    oracle_text = (f"{method}'s derivative of the composed loss by that param"
                   if method != "complex-step" else
                   "the complex-step derivative Im E(p + ih)/h, h = 1e-30")
    detail = (f"each of the {n:,} entries of {what.replace('E', loss)} equals {paths} and "
              f"{oracle_text}, at the point (largest difference {worst:.1e} of Σ|path terms|)")
    if isinstance(loss_value, NoValue):
        detail = f"{loss} is undefined at the point, and so is every entry, in every form"
    if method != "complex-step" and len(spec.params) <= IDENTITY_PARAMS:
        proof = _identity(spec, net, entries(), oracle.derivatives(), method, composed, leaves)
        if not proof.verified:
            return proof, checks, how
        detail += f"; as functions, {proof.detail}"
        return Verification(True, proof.method, detail, proof.error_bound), checks, how
    return Verification(True, method, detail, worst or None), checks, how


def _product(pv: Any, path: tuple[str, ...]) -> Any:
    out: Any = mpmath.mpf(1)
    for u, v in zip(path, path[1:]):
        out = _mul(out, pv.partials[(u, v)])
    return out


def mlp_entries(layers: list[Layer], dsym: Mapping[tuple[int, int], sp.Symbol]
                ) -> list[tuple[str, sp.Expr]]:
    """Every param's matrix-form expression with the δ's substituted back (node names)."""
    full: dict[sp.Symbol, sp.Expr] = {}
    for layer in reversed(layers):
        for j in range(layer.units):
            full[dsym[(layer.layer, j + 1)]] = layer.delta_expr[j].xreplace(full)
    entries: list[tuple[str, sp.Expr]] = []
    for layer in layers:
        for j in range(layer.units):
            d = full[dsym[(layer.layer, j + 1)]]
            for k in range(layer.fan_in):
                entries.append((layer.weight(j + 1, k + 1), d * layer.a_prev[k]))
            if layer.bias_mode == "unit":
                entries.append((layer.bias_names()[j], d))
        if layer.bias_mode == "layer":
            entries.append((layer.bias_names()[0],
                            sp.Add(*(full[dsym[(layer.layer, j + 1)]]
                                     for j in range(layer.units)))))
    return entries


def _identity(spec: Spec, net: Network, entries: list[tuple[str, sp.Expr]],
              derivatives: Mapping[str, sp.Expr], engine: str,
              composed: Mapping[str, sp.Expr], leaves: Mapping[str, Any]) -> Verification:
    """The matrix-form expression of every entry (δ's substituted back, in node names) equals
    the CAS's derivative of the composed loss, as a function (verify: exact, modular or
    numeric)."""
    methods = []
    bounds = []
    for p, expr in entries:
        v = verify(net, p, expr, derivatives[p], composed, leaves)
        if not v.verified:
            return Verification(False, v.method, f"the matrix-form expression of "
                                f"∂{spec.loss}/∂{p} differs from {engine}'s derivative: "
                                f"{v.detail}")
        methods.append(v.method)
        if v.error_bound:
            bounds.append(v.error_bound)
    weakest = max(methods, key=["exact", "modular", "numeric"].index) if methods else "exact"
    how = {"exact": f"sympy.expand(matrix form − {engine}'s derivative) = 0 for every entry",
           "modular": f"the matrix form equals {engine}'s derivative for every entry by the "
                      "exact identity test modulo 2^127 − 1 (chance of a false pass ≤ "
                      f"{max(bounds) if bounds else 0:.0e} each)",
           "numeric": f"the matrix form equals {engine}'s derivative for every entry at 50 "
                      "digits at random points"}[weakest]
    return Verification(True, weakest, how, max(bounds) if bounds else None)


# --- the bridge ----------------------------------------------------------------------------


def _bridge(spec: Spec, net: Network, pv: Any, layers: list[Layer], param: str,
            widths: list[int], acts: list[str], deltas: Mapping[int, list[Any]],
            grad_a: sp.Matrix) -> Bridge:
    """The paths of `param`, grouped the way BP2 (or BP1) adds them up."""
    graph = spec.graph
    loss = spec.loss
    L = len(widths) - 1  # noqa: N806
    kind, l, j, k = _locate(param, layers)  # noqa: E741 - l is the layer
    layer = layers[l - 1]
    val = pv.values
    counts = graph.path_counts(loss)
    if kind == "weight":
        entry = layer.a_prev[k - 1] * layer.delta[j - 1]  # type: ignore[operator]
        first: sp.Expr | None = layer.a_prev[k - 1]  # type: ignore[operator]
        value = _mul(val[str(first)], deltas[l][j - 1])  # type: ignore[operator]
    elif kind == "bias":
        entry, first = layer.delta[j - 1], sp.S.One  # type: ignore[operator]
        value = deltas[l][j - 1]  # type: ignore[operator]
    else:
        entry, first = sp.Add(*layer.delta), None
        value = _add(list(deltas[l]))
    sigma = None
    if kind != "layer bias" and layer.sigma_prime is not None:
        sigma = layer.sigma_prime[j - 1]  # type: ignore[operator]
    common: Any = mpmath.mpf(1)  # the factors every path shares, as a number
    if first is not None:
        common = _mul(common, val[str(first)] if first != 1 else mpmath.mpf(1))
    if sigma is not None:
        common = _mul(common, pv.partials[(f"z{l}_{j}", f"a{l}_{j}")])

    # the unit a path passes next decides its group; `terms` is what the group adds up to
    # after the shared factors, `nums` the group's value (shared factors included)
    nums: dict[int, Any] = {}
    edges: dict[int, sp.Expr | None] = {}
    if kind == "layer bias":
        def key(p: tuple[str, ...]) -> int:
            return int(p[1].rsplit("_", 1)[1])
        group_nodes = {i: f"z{l}_{i}" for i in range(1, widths[l] + 1)}
        terms = {i: layer.delta[i - 1] for i in group_nodes}
        nums = {i: deltas[l][i - 1] for i in group_nodes}
    elif l < L:
        def key(p: tuple[str, ...]) -> int:
            return int(p[3].rsplit("_", 1)[1])  # param → z^l_j → a^l_j → z^{l+1}_i → …
        nxt = layers[l]
        group_nodes = {i: f"z{l + 1}_{i}" for i in range(1, widths[l + 1] + 1)}
        edges = {i: nxt.W[i - 1, j - 1] for i in group_nodes}  # type: ignore[operator]
        terms = {i: nxt.W[i - 1, j - 1] * nxt.delta[i - 1]  # type: ignore[operator]
                 for i in group_nodes}
        nums = {i: _mul(common, _mul(val[str(nxt.W[i - 1, j - 1])],  # type: ignore[operator]
                                     deltas[l + 1][i - 1])) for i in group_nodes}
    else:  # the output layer: group by the output a^L_i the path reaches E from
        def key(p: tuple[str, ...]) -> int:
            return int(p[-2].rsplit("_", 1)[1])
        if acts[-1] == "softmax":
            group_nodes = {i: f"a{L}_{i}" for i in range(1, widths[L] + 1)}
            aj = layer.a[j - 1]  # type: ignore[operator]
            terms = {}
            for i in group_nodes:
                ai = layer.a[i - 1]
                jac = ai * (1 - aj) if i == j else -ai * aj  # ∂a_i/∂z_j
                terms[i] = grad_a[i - 1] * jac
                jv = _mul(val[str(ai)], (1 - val[str(aj)]) if i == j else -val[str(aj)])
                nums[i] = _mul(common, _mul(pv.partials[(str(ai), loss)], jv))
        else:
            group_nodes = {j: f"a{L}_{j}"}  # type: ignore[dict-item]
            terms = {j: grad_a[j - 1]}  # type: ignore[dict-item, operator]
            nums = {j: _mul(common, pv.partials[(f"a{L}_{j}", loss)])}  # type: ignore
    listed_paths: dict[int, list[PathRow]] = {i: [] for i in group_nodes}
    sums: dict[int, list[Any]] = {i: [] for i in group_nodes}
    shown = 0
    listable = counts[param] <= LIST_LIMIT
    listing = 0
    for p in graph.paths(param, loss) if listable else ():
        i = key(p)
        v = _product(pv, p)
        sums[i].append(v)
        listing += len(p) - 2  # m edges, m − 1 multiplications
        if shown < BRIDGE_ROWS:
            factors = tuple(net.local_partial(u, w) for u, w in zip(p, p[1:]))
            listed_paths[i].append(PathRow(p, factors, as_float(v)))
            shown += 1
    groups = []
    for i, node in group_nodes.items():
        if kind == "layer bias" or l < L:
            n_paths = int(counts[node])
        else:
            n_paths = len(sums[i]) if listable else 0
        listed_sum = _add(sums[i]) if listable and sums[i] else None
        groups.append(PathGroup(unit=i, node=node, edge=edges.get(i), term=terms[i],
                                count=n_paths, value=as_float(nums[i]),
                                listed_value=None if listed_sum is None else as_float(listed_sum),
                                paths=tuple(listed_paths[i])))
    if kind == "layer bias":
        matrix_mults = 0  # Σ_j δ^l_j: additions only
    elif l < L:  # row j of (W^{l+1})ᵀ times δ^{l+1}, ⊙ σ′, then times a^{l−1}_k
        matrix_mults = widths[l + 1] + (1 if sigma is not None else 0) + (kind == "weight")
    else:
        matrix_mults = 1 + (kind == "weight")  # BP1's ⊙ (or a_j·Σy), then times a^{L−1}_k
    return Bridge(param=param, kind=kind, layer=l, row=j, column=k, entry=entry,
                  value=as_float(value), path_count=int(counts[param]), groups=tuple(groups),
                  listed=shown, first_factor=first, sigma_prime=sigma,
                  listing_multiplications=listing if listable else None,
                  matrix_multiplications=matrix_mults)


def _locate(param: str, layers: list[Layer]) -> tuple[str, int, int | None, int | None]:
    """(kind, l, j, k) of a param of the mlp."""
    for layer in layers:
        for j in range(1, layer.units + 1):
            for k in range(1, layer.fan_in + 1):
                if layer.weight(j, k) == param:
                    return "weight", layer.layer, j, k
        names = layer.bias_names()
        if layer.bias_mode == "unit" and param in names:
            return "bias", layer.layer, names.index(param) + 1, None
        if layer.bias_mode == "layer" and param in names:
            return "layer bias", layer.layer, None, None
    raise UsageError(f"'{param}' is not a weight or bias of the mlp")
