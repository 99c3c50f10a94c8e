"""The neuron view's units, found in the expressions themselves.

A node whose expression is a weighted sum, Σ w·s + b (each w and b a param, each s any other
name), is a unit's weighted input z; a node a = f(z) that is z's only user is its activation.
The mlp builder's z{l}_{j} / a{l}_{j}, the rnn builder's z{t} / h{t} and o{t} = v·h{t} + c
all have this form, and so may any hand-written spec. Softmax outputs (a = exp(z)/s) are not
paired: their z stays a unit of its own and a, s stay ordinary nodes, which keeps the
picture a DAG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..spec import grammar as g

if TYPE_CHECKING:
    from ..spec import Spec

__all__ = ["Unit", "Units", "find"]


@dataclass(frozen=True)
class Unit:
    """z = Σ weight·source + bias, and its activation a (None: the unit is z alone)."""

    z: str
    a: str | None
    inputs: tuple[tuple[str, str], ...]  # (source, weight), in the expression's order
    biases: tuple[str, ...]

    @property
    def name(self) -> str:
        """The name the unit is drawn as: what its out-edges carry."""
        return self.a or self.z


@dataclass(frozen=True)
class Units:
    """The units of a spec by drawn name; `drawn_as` maps each z and a to its unit's name;
    `absorbed` are the params drawn only as edge or bias labels."""

    units: dict[str, Unit]
    drawn_as: dict[str, str]
    absorbed: frozenset[str]


def _terms(e: g.Expr) -> list[g.Expr]:
    if isinstance(e, g.BinOp) and e.op == "+":
        return _terms(e.left) + _terms(e.right)
    return [e]


def _weighted_sum(expr: g.Expr, params: dict) -> tuple[list[tuple[str, str]], list[str]] | None:
    inputs: list[tuple[str, str]] = []
    biases: list[str] = []
    for t in _terms(expr):
        if isinstance(t, g.Name) and t.id in params:
            biases.append(t.id)
        elif (isinstance(t, g.BinOp) and t.op == "*" and isinstance(t.left, g.Name)
              and isinstance(t.right, g.Name)):
            a, b = t.left.id, t.right.id
            if a in params and b not in params:
                inputs.append((b, a))
            elif b in params and a not in params:
                inputs.append((a, b))
            else:
                return None
        else:
            return None
    used = [w for _, w in inputs] + biases
    if not inputs or len(set(used)) != len(used) or len({s for s, _ in inputs}) != len(inputs):
        return None
    return inputs, biases


def find(spec: Spec) -> Units:
    """Every unit of `spec` (possibly none).

    >>> import pathgrad
    >>> u = find(pathgrad.load("examples/mazur.yaml"))
    >>> u.units["a2_1"].inputs, u.units["a2_1"].biases
    ((('a1_1', 'w2_1_1'), ('a1_2', 'w2_1_2')), ('b2',))
    """
    graph = spec.graph
    sums: dict[str, tuple[list[tuple[str, str]], list[str]]] = {}
    for n, expr in spec.nodes.items():
        if n == spec.loss:
            continue
        found = _weighted_sum(expr, spec.params)
        if found is not None:
            sums[n] = found
    units: dict[str, Unit] = {}
    drawn: dict[str, str] = {}
    for z, (inputs, biases) in sums.items():
        users = graph.children(z)
        a = None
        if len(users) == 1 and users[0] != spec.loss and users[0] not in sums:
            expr = spec.nodes[users[0]]
            if (isinstance(expr, g.Call) and len(expr.args) == 1 and expr.args[0] == g.Name(z)) \
                    or expr == g.Name(z):
                a = users[0]
        unit = Unit(z, a, tuple(inputs), tuple(biases))
        units[unit.name] = unit
        drawn[z] = unit.name
        if a:
            drawn[a] = unit.name
    # a param is only a label when every use of it is as a unit's weight or bias
    roles: dict[str, int] = {}
    for unit in units.values():
        for p in [w for _, w in unit.inputs] + list(unit.biases):
            roles[p] = roles.get(p, 0) + 1
    absorbed = frozenset(p for p, k in roles.items() if k == len(graph.children(p)))
    return Units(units, drawn, absorbed)
