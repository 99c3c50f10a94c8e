"""Central differences of a spec's loss in double precision, through the float forward pass
`show` uses (render/numbers.py): an oracle that shares no code with explain's exact numbers,
sympy or symengine. Good to about 1e-8 relative with the default step."""

from __future__ import annotations

from pathgrad.render.numbers import float_values
from pathgrad.spec.model import apply_values


def central_difference(spec, weight: str, h: float = 1e-6) -> float:
    base = apply_values(spec, None)
    out = []
    for step in (h, -h):
        values = dict(base)
        values[weight] = base[weight] + type(base[weight])(step)
        out.append(float_values(spec, values)[spec.loss])
    return (out[0] - out[1]) / (2 * h)
