"""`pathgrad matrix --format json`. The keys are a contract: extend, never rename.

`{"loss", "convention", "layers": [{"layer", "units", "delta", "delta_expr", "grad_W", "grad_b",
"paths_per_delta"} …], "verified", "method"}`, layers in order 1 … L; numbers are floats (null
where undefined), expressions strings sympy parses back (δ^{l+1}_i is the symbol
delta{l+1}_{i}; declare the names as real symbols; `sigmoid` is pathgrad.calculus.sigmoid).
`grad_b` is a list (bias: unit), one number (bias: layer) or null (bias: none).

Extra keys: `value` (the loss at the point), `loss_function`, per layer `activation`, `shape`,
`names` (W, a_prev, z, a, b, delta as names), `values` (W, a_prev, z, a, sigma_prime, b),
`sigma_prime_expr`, `grad_W_expr`; `grad_a_expr` (∇_a E); `verification` (detail,
error_bound); `checks` (param → matrix, paths, direct); `path_sum_method`; `multiplications`
(matrix_form, listing); and `bridge` with --weight.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..analyses.matrix import Bridge, Layer, MatrixForm
from .notation import Notation

__all__ = ["matrix"]


def _names(m: sp.Matrix) -> list[Any]:
    rows = [[str(x) for x in m.row(i)] for i in range(m.rows)]
    return [r[0] for r in rows] if m.cols == 1 else rows


def _layer(layer: Layer, note: Notation) -> dict[str, Any]:
    b = layer.b
    out: dict[str, Any] = {
        "layer": layer.layer,
        "units": layer.units,
        "delta": list(layer.delta_values),
        "delta_expr": [note.plain(e) for e in layer.delta_expr],
        "grad_W": [list(row) for row in layer.grad_W],
        "grad_b": list(layer.grad_b) if isinstance(layer.grad_b, tuple) else layer.grad_b,
        "paths_per_delta": [int(n) for n in layer.paths_per_delta],
        "activation": layer.activation,
        "shape": {"W": [layer.units, layer.fan_in], "delta": [layer.units, 1],
                  "a_prev": [layer.fan_in, 1]},
        "names": {"W": _names(layer.W), "a_prev": _names(layer.a_prev), "z": _names(layer.z),
                  "a": _names(layer.a), "delta": _names(layer.delta),
                  "b": None if b is None else (b.name if isinstance(b, sp.Symbol)
                                               else _names(b))},
        "values": dict(layer.values),
        "sigma_prime_expr": None if layer.sigma_prime is None else
        [note.plain(e) for e in layer.sigma_prime],
        "grad_W_expr": [[note.plain(layer.grad_W_expr[j, k]) for k in range(layer.fan_in)]
                        for j in range(layer.units)],
    }
    return out


def _bridge(br: Bridge, note: Notation) -> dict[str, Any]:
    return {
        "param": br.param, "kind": br.kind, "layer": br.layer, "row": br.row,
        "column": br.column, "entry": note.plain(br.entry), "value": br.value,
        "path_count": int(br.path_count),
        "first_factor": None if br.first_factor is None else note.plain(br.first_factor),
        "sigma_prime": None if br.sigma_prime is None else note.plain(br.sigma_prime),
        "groups": [{"unit": g.unit, "node": g.node,
                    "edge": None if g.edge is None else note.plain(g.edge),
                    "term": note.plain(g.term), "count": int(g.count), "value": g.value,
                    "listed_value": g.listed_value,
                    "paths": [{"nodes": list(p.nodes),
                               "factors": [note.plain(f) for f in p.factors],
                               "value": p.value} for p in g.paths]}
                   for g in br.groups],
        "listed": br.listed,
        "multiplications": {"matrix_form": br.matrix_multiplications,
                            "listing": br.listing_multiplications},
    }


def matrix(mf: MatrixForm) -> dict[str, Any]:
    """The contract keys, then the extra ones."""
    note = Notation(mf.spec)
    out: dict[str, Any] = {
        "loss": mf.loss,
        "convention": mf.convention,
        "layers": [_layer(layer, note) for layer in mf.layers],
        "verified": bool(mf.verified),
        "method": mf.method,
        "value": mf.loss_value,
        "loss_function": mf.loss_kind,
        "grad_a_expr": [note.plain(e) for e in mf.grad_a],
        "verification": {"detail": mf.verification.detail,
                         "error_bound": mf.verification.error_bound},
        "checks": {p: dict(c) for p, c in mf.checks.items()},
        "path_sum_method": dict(mf.path_sum_method),
        "multiplications": {"matrix_form": mf.matrix_multiplications,
                            "listing": int(mf.listing_multiplications)},
    }
    if mf.bridge is not None:
        out["bridge"] = _bridge(mf.bridge, note)
    return out
