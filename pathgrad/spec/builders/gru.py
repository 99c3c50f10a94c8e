"""The `gru` builder: a GRU cell unrolled over T steps (PyTorch's GRUCell), the same weights at
every step.

```yaml
gru:
  inputs: 2            # input features per step: x{t}_{k}, or x{t} when there is one (default 1)
  hidden: 2            # units (default 1)
  steps: 3             # required: T
  loss: last           # last (default): E = ½·Σ_j (y_j − h{T}_{j})²; sum: that summed over steps
  targets: [y1, y2]    # one per unit (default y, or y1, y2, …)
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

PyTorch's GRUCell, unit j at step t (r the reset gate, z the update gate, n the candidate):

    r = σ(W_ir x + b_ir + W_hr h + b_hr)
    z = σ(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    h' = (1 − z) ⊙ n + z ⊙ h

Bias names: in r and z the two biases are only ever added, so each gate has one, `br_{j}` and
`bz_{j}` (their sum). In the candidate the hidden bias sits inside the reset gate's product,
so it is a param of its own: `bn_{j}` is b_in and `bhn_{j}` is b_hn.

Generated names: params `W{g}_{j}_{k}`, `U{g}_{j}_{m}` for g in r, z, n, and `br_{j}`,
`bz_{j}`, `bn_{j}`, `bhn_{j}`; inputs `x{t}_{k}` (or `x{t}`), `h0_{j}` (0 unless `inputs:` gives a
value) and the targets; nodes
`r{t}_{j} = sigmoid(Σ_k Wr_{j}_{k}·x{t}_{k} + Σ_m Ur_{j}_{m}·h{t−1}_{m} + br_{j})`, `z{t}_{j}` the
same with Wz/Uz/bz, `n{t}_{j} = tanh(Σ_k Wn_{j}_{k}·x{t}_{k} + bn_{j} +
r{t}_{j}·(Σ_m Un_{j}_{m}·h{t−1}_{m} + bhn_{j}))`, `h{t}_{j} = (1 − z{t}_{j})·n{t}_{j} +
z{t}_{j}·h{t−1}_{j}`, and the loss `E`.

Between steps, h{t−1}_{j} → h{t}_{j} has the local partial z{t}_{j} (no squashing, like the
LSTM's cell state): `meta["routes"]` tags it "direct" and the edges h{t−1}_{m} → r, z, n
"gates".
Paths are grouped by step; initial values uniform(−1/√hidden, 1/√hidden), 4 decimals.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .. import grammar as g
from ..source import Document
from ._cell import read_cell, tex_param, tex_state
from ._common import Built, Initializer, add_all, call, check_size, mul, sub

__all__ = ["build", "GATES", "ROUTES", "ROLES"]

GATES = ("r", "z", "n")
ROUTES = {"direct": "h(t−1) → h(t) directly, ∂ = z(t)",
          "gates": "h(t−1) → r, z, n, ∂ = U·σ′ or U·tanh′"}
# comparable across cells: a state carried on unsquashed, or through weights and a squashing
ROLES = {"direct": "carry", "gates": "gates"}


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `gru:` block of `doc` and build the unrolled network."""
    b, cell = read_cell(doc, "gru", ("h",))
    n_in, hidden, steps = cell.n_in, cell.hidden, cell.steps
    count = steps * n_in + 2 * hidden + 3 * hidden * (n_in + hidden) + 4 * hidden \
        + 4 * hidden * steps + 1
    check_size(count, b.where("steps"), "this gru", nodes=4 * hidden * steps + 1,
               # r, z: W·x + U·h + b; n also r and a second bias; h: z, n, h(t−1); E
               edges=hidden * steps * (2 * (2 * n_in + 2 * hidden + 1) + 2 * n_in
                                       + 2 * hidden + 3 + 3) + cell.loss_edges())

    cell.add_inputs(("h",))
    for gate in GATES:
        cell.add_gate_params(gate)
    for j in cell.units:
        cell.params[f"bhn_{j}"] = None
        cell.init.add(f"bhn_{j}", hidden)
        cell.latex[f"bhn_{j}"] = tex_param("b", "hn", j)
    one = g.Num(Fraction(1))
    edges: dict[tuple[str, str], str] = {}
    units = cell.units
    for t in range(1, steps + 1):
        for gate in ("r", "z"):
            for j in units:
                name = f"{gate}{t}_{j}"
                cell.node(name, call("sigmoid", cell.pre_activation(gate, t, j)),
                          tex_state(gate, t, j), t)
        for j in units:
            name = f"n{t}_{j}"
            inner = add_all([*cell.hidden_terms("n", t, j), g.Name(f"bhn_{j}")])
            cell.node(name, call("tanh", add_all([*cell.input_terms("n", t, j),
                                                  g.Name(f"bn_{j}"),
                                                  mul(g.Name(f"r{t}_{j}"), inner)])),
                      tex_state("n", t, j), t)
        for j in units:
            z, h = g.Name(f"z{t}_{j}"), f"h{t}_{j}"
            cell.node(h, add_all([mul(sub(one, z), g.Name(f"n{t}_{j}")),
                                  mul(z, g.Name(f"h{t - 1}_{j}"))]), tex_state("h", t, j), t)
            edges[(f"h{t - 1}_{j}", h)] = "direct"
            for gate in GATES:
                for m in units:
                    edges[(f"h{t - 1}_{m}", f"{gate}{t}_{j}")] = "gates"
    cell.add_loss()

    meta: dict[str, Any] = {
        "summary": [f"gru: {cell.shape_text()}; r, z = σ(W x + U h + b), n = tanh(W x + bn + "
                    f"r·(U h + bhn)), h = (1 − z)·n + z·h; the {len(cell.params):,} params are "
                    f"shared by every step; loss {cell.loss}: {cell.loss_text()}"],
        "gru": cell.settings(),
        "groups": cell.groups,
        "group_title": "step",
        "routes": {"labels": ROUTES, "edges": edges, "roles": ROLES},
        "probe": cell.x(1, 1),
    }
    built = Built(inputs=cell.inputs, params=cell.params, nodes=cell.nodes, loss="E",
                  latex=cell.latex, meta=meta, user_names=cell.user_names())
    return built, cell.init
