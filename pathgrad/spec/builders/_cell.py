"""What the gated recurrent cells (`lstm:`, `gru:`) share: their block, their names and their
loss.

Both read the same settings (`inputs`, `hidden`, `steps`, `loss`, `targets`, `init`), name the
step-t input x{t}_{k} (x{t} when there is one input feature), the units' states
{state}{t}_{j} and their weights W{g}_{j}_{k} (input k → unit j), U{g}_{j}_{m} (unit m of the
previous step → unit j) and b{g}_{j}, and end in E = ½·Σ_j (y_j − h{T}_{j})² (`loss: last`)
or that sum over every step (`loss: sum`, the same targets at every step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...errors import SpecError
from .. import grammar as g
from ..source import Document
from ._common import Block, Initializer, add_all, half_sum_of_squares, mul

__all__ = ["CELL_KEYS", "MAX_STEPS", "MAX_UNITS", "Cell", "read_cell", "tex_index",
           "tex_param", "tex_state"]

CELL_KEYS = ("inputs", "hidden", "steps", "loss", "targets", "init")
MAX_STEPS = 10_000
MAX_UNITS = 1_000


def tex_index(*units: int) -> str:
    """Unit indices run together while all are single digits (12), else with commas (12,3)."""
    return ("," if any(u > 9 for u in units) else "").join(map(str, units))


def tex_param(kind: str, gate: str, *units: int) -> str:
    """W^{f}_{12}: the gate as a superscript, the units as subscripts."""
    return "%s^{%s}_{%s}" % (kind, gate, tex_index(*units))


def tex_state(kind: str, t: int, *units: int) -> str:
    """c^{(t)}_{j}: the step as a superscript (as for the rnn), then the unit."""
    return "%s^{(%d)}%s" % (kind, t, "_{%s}" % tex_index(*units) if units else "")


@dataclass
class Cell:
    """A cell's settings after defaults, and the names and values it has made so far."""

    builder: str
    n_in: int
    hidden: int
    steps: int
    loss: str
    targets: list[str]
    init: Initializer
    inputs: dict[str, Fraction | None] = field(default_factory=dict)
    params: dict[str, Fraction | None] = field(default_factory=dict)
    nodes: dict[str, g.Expr] = field(default_factory=dict)
    latex: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)

    @property
    def units(self) -> range:
        return range(1, self.hidden + 1)

    def x(self, t: int, k: int) -> str:
        """Step t's input feature k: x{t}_{k}, or x{t} when there is one feature."""
        return f"x{t}" if self.n_in == 1 else f"x{t}_{k}"

    def add_inputs(self, states: Sequence[str]) -> None:
        """The per-step inputs, then each state's initial value {state}0_{j} = 0."""
        for t in range(1, self.steps + 1):
            for k in range(1, self.n_in + 1):
                name = self.x(t, k)
                self.inputs[name] = None
                self.latex[name] = tex_state("x", t) if self.n_in == 1 else tex_state("x", t, k)
        for state in states:
            for j in self.units:
                name = f"{state}0_{j}"
                self.inputs[name] = Fraction(0)  # `inputs:` may set another initial state
                self.latex[name] = tex_state(state, 0, j)

    def add_gate_params(self, gate: str, bias: bool = True) -> None:
        """W{gate}_{j}_{k}, U{gate}_{j}_{m} and b{gate}_{j}; fan_in = hidden (PyTorch's cells:
        uniform(−1/√hidden, 1/√hidden) for every weight and bias)."""
        for j in self.units:
            for k in range(1, self.n_in + 1):
                self._param(f"W{gate}_{j}_{k}", tex_param("W", gate, j, k))
        for j in self.units:
            for m in self.units:
                self._param(f"U{gate}_{j}_{m}", tex_param("U", gate, j, m))
        if bias:
            for j in self.units:
                self._param(f"b{gate}_{j}", tex_param("b", gate, j))

    def _param(self, name: str, tex: str) -> None:
        self.params[name] = None
        self.init.add(name, self.hidden)
        self.latex[name] = tex

    def input_terms(self, gate: str, t: int, j: int) -> list[g.Expr]:
        """W{gate}_{j}_{k}·x{t}_{k} for every feature k."""
        return [mul(g.Name(f"W{gate}_{j}_{k}"), g.Name(self.x(t, k)))
                for k in range(1, self.n_in + 1)]

    def hidden_terms(self, gate: str, t: int, j: int) -> list[g.Expr]:
        """U{gate}_{j}_{m}·h{t−1}_{m} for every unit m."""
        return [mul(g.Name(f"U{gate}_{j}_{m}"), g.Name(f"h{t - 1}_{m}")) for m in self.units]

    def pre_activation(self, gate: str, t: int, j: int) -> g.Expr:
        """W x + U h + b for one unit of one gate."""
        return add_all([*self.input_terms(gate, t, j), *self.hidden_terms(gate, t, j),
                        g.Name(f"b{gate}_{j}")])

    def node(self, name: str, expr: g.Expr, tex: str, t: int) -> None:
        self.nodes[name] = expr
        self.latex[name] = tex
        self.groups[name] = f"step {t}"

    def loss_edges(self) -> int:
        """The names E would use: each target, and h{t}_{j} at the last step or at every one."""
        return self.hidden * (2 if self.loss == "last" else 1 + self.steps)

    def add_loss(self) -> None:
        """E = ½·Σ_j (y_j − h{T}_{j})², or summed over every step for `loss: sum`."""
        for y in self.targets:
            self.inputs[y] = None
        steps = range(1, self.steps + 1) if self.loss == "sum" else [self.steps]
        self.nodes["E"] = half_sum_of_squares(
            (y, f"h{t}_{j}") for t in steps for j, y in zip(self.units, self.targets))

    def user_names(self) -> dict[str, tuple[str | int, ...]]:
        return {y: ("targets", i) for i, y in enumerate(self.targets)}

    def settings(self) -> dict[str, Any]:
        return {"inputs": self.n_in, "hidden": self.hidden, "steps": self.steps,
                "loss": self.loss, "targets": self.targets}

    def loss_text(self) -> str:
        return ("E = ½·Σ_j (y_j − h{T}_j)²" if self.loss == "last"
                else "E = ½·Σ_t Σ_j (y_j − h{t}_j)²").replace("{T}", str(self.steps))

    def shape_text(self) -> str:
        s, n, h = self.steps, self.n_in, self.hidden
        return (f"{s} step{'s' * (s != 1)}, {n} input{'s' * (n != 1)} per step, "
                f"{h} unit{'s' * (h != 1)}")


def read_cell(doc: Document, key: str, states: Sequence[str],
              keys: Sequence[str] = CELL_KEYS) -> tuple[Block, Cell]:
    """Read the settings every cell block has; refuse bad values at their line. `states` are
    the cell's state letters (their initial values {state}0_{j} are inputs too)."""
    b = Block(doc, key, "{inputs: 1, hidden: 2, steps: 3}")
    b.check_keys(keys, required=("steps",))
    n_in = b.integer("inputs", 1, most=MAX_UNITS)
    hidden = b.integer("hidden", 1, most=MAX_UNITS)
    steps = b.integer("steps", most=MAX_STEPS)
    loss = b.choice("loss", ("last", "sum"), "last", what="loss")
    default = ["y"] if hidden == 1 else [f"y{j}" for j in range(1, hidden + 1)]
    targets = b.names("targets", default, what="target names")
    if len(targets) != hidden:
        raise SpecError(f"{len(targets)} target{'s' * (len(targets) != 1)} but the {key} has "
                        f"{hidden} unit{'s' * (hidden != 1)}", b.where("targets"),
                        "give one target per unit")
    cell = Cell(key, n_in, hidden, steps, loss, targets, Initializer(b.seed()))
    initial = {f"{state}0_{j}" for state in states for j in cell.units}
    for i, y in enumerate(targets):
        if y in initial or _is_input_name(y, steps, n_in):
            where = b.where("targets", i) if b.has("targets") else b.where("hidden")
            raise SpecError(f"the target '{y}' is also the name of one of the {key}'s inputs",
                            where,
                            "name the targets, e.g. `targets: [t1, t2]`" if not b.has(
                                "targets") else "choose another name")
    return b, cell


def _is_input_name(name: str, steps: int, n_in: int) -> bool:
    """Whether `name` is one of x{t}_{k} (x{t} for one feature), without listing them."""
    if not name.startswith("x"):
        return False
    head, _, tail = name[1:].partition("_")
    if not head.isdigit() or head.startswith("0") or not 1 <= int(head) <= steps:
        return False
    if n_in == 1:
        return not _
    return tail.isdigit() and not tail.startswith("0") and 1 <= int(tail) <= n_in
