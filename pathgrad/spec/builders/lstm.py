"""The `lstm` builder: an LSTM cell unrolled over T steps (PyTorch's LSTMCell, one bias per
gate), the same weights at every step.

```yaml
lstm:
  inputs: 2            # input features per step; step t reads x{t}_{k} (k = 1, 2), or x{t} when
                       # there is one (default 1)
  hidden: 2            # units (default 1)
  steps: 3             # required: T
  loss: last           # last (default): E = ½·Σ_j (y_j − h{T}_{j})²; sum: that summed over steps
  targets: [y1, y2]    # one per unit (default y, or y1, y2, …); for sum the same at every step
  init: {seed: 0}      # params given no value get seeded values (default seed 0)
```

Generated names (t = 1…T the step, j and m units, k an input feature; g one of the gates
i, f, g, o):

- params `W{g}_{j}_{k}` (input k → unit j), `U{g}_{j}_{m}` (unit m at t − 1 → unit j),
  `b{g}_{j}`: `Wf_1_2`, `Ui_2_1`, `bo_1` … (with one input k = 1); LaTeX W^{f}_{12}, b^{o}_{1}
- inputs `x{t}_{k}` (or `x{t}`), the initial states `h0_{j}` and `c0_{j}` (0 unless `inputs:`
  gives a value), the targets
- nodes, for every step and unit:
  `i{t}_{j} = sigmoid(Σ_k Wi_{j}_{k}·x{t}_{k} + Σ_m Ui_{j}_{m}·h{t−1}_{m} + bi_{j})` (input gate),
  `f{t}_{j}` (forget gate) and `o{t}_{j}` (output gate) the same with Wf/Uf/bf and Wo/Uo/bo,
  `g{t}_{j} = tanh(… Wg, Ug, bg …)` (the candidate), `c{t}_{j} = f{t}_{j}·c{t−1}_{j} +
  i{t}_{j}·g{t}_{j}` (the cell state), `h{t}_{j} = o{t}_{j}·tanh(c{t}_{j})` (the hidden state),
  and the loss `E`; LaTeX i^{(t)}_{j}, c^{(t)}_{j}, h^{(t)}_{j}

The lesson is in two kinds of edge between steps: c{t−1}_{j} → c{t}_{j} has the local partial
f{t}_{j} (no squashing), while h{t−1}_{m} → gates multiplies by U and a σ′ or tanh′.
`meta["routes"]` tags those edges "c" and "h" (pathgrad.analyses.routes groups paths by the
tags they use); `meta["groups"]` maps each node of step t to "step t", so the paths of a shared
weight are grouped by the step where it enters. Initial values: uniform(−1/√hidden,
1/√hidden) for every param (PyTorch's LSTMCell), 4 decimals.
"""

from __future__ import annotations

from typing import Any

from .. import grammar as g
from ..source import Document
from ._cell import read_cell, tex_state
from ._common import Built, Initializer, add_all, call, check_size, mul

__all__ = ["build", "GATES", "ROUTES", "ROLES"]

GATES = ("i", "f", "g", "o")
ROUTES = {"c": "cell state c(t−1) → c(t), ∂ = f(t)",
          "h": "hidden state h(t−1) → the gates, ∂ = U·σ′ or U·tanh′"}
# comparable across cells: a state carried on unsquashed, or through weights and a squashing
ROLES = {"c": "carry", "h": "gates"}


def build(doc: Document) -> tuple[Built, Initializer]:
    """Read the `lstm:` block of `doc` and build the unrolled network."""
    b, cell = read_cell(doc, "lstm", ("h", "c"))
    n_in, hidden, steps = cell.n_in, cell.hidden, cell.steps
    count = steps * n_in + 2 * hidden + hidden + 4 * hidden * (n_in + hidden + 1) \
        + 6 * hidden * steps + 1
    check_size(count, b.where("steps"), "this lstm", nodes=6 * hidden * steps + 1,
               # i, f, g, o: W·x + U·h + b; c: f, c(t−1), i, g; h: o, c; E
               edges=hidden * steps * (4 * (2 * n_in + 2 * hidden + 1) + 4 + 2)
               + cell.loss_edges())

    cell.add_inputs(("h", "c"))
    for gate in GATES:
        cell.add_gate_params(gate)
    edges: dict[tuple[str, str], str] = {}
    units = cell.units
    for t in range(1, steps + 1):
        for gate in GATES:
            func = "tanh" if gate == "g" else "sigmoid"
            for j in units:
                name = f"{gate}{t}_{j}"
                cell.node(name, call(func, cell.pre_activation(gate, t, j)),
                          tex_state(gate, t, j), t)
                for m in units:
                    edges[(f"h{t - 1}_{m}", name)] = "h"
        for j in units:
            c = f"c{t}_{j}"
            cell.node(c, add_all([mul(g.Name(f"f{t}_{j}"), g.Name(f"c{t - 1}_{j}")),
                                  mul(g.Name(f"i{t}_{j}"), g.Name(f"g{t}_{j}"))]),
                      tex_state("c", t, j), t)
            edges[(f"c{t - 1}_{j}", c)] = "c"
        for j in units:
            cell.node(f"h{t}_{j}", mul(g.Name(f"o{t}_{j}"), call("tanh", g.Name(f"c{t}_{j}"))),
                      tex_state("h", t, j), t)
    cell.add_loss()

    meta: dict[str, Any] = {
        "summary": [f"lstm: {cell.shape_text()}; i, f, o = σ(W x + U h + b), g = tanh(W x + "
                    f"U h + b), c = f·c + i·g, h = o·tanh(c); the {len(cell.params):,} params "
                    f"are shared by every step; loss {cell.loss}: {cell.loss_text()}"],
        "lstm": cell.settings(),
        "groups": cell.groups,
        "group_title": "step",
        "routes": {"labels": ROUTES, "edges": edges, "roles": ROLES},
        "probe": cell.x(1, 1),
    }
    built = Built(inputs=cell.inputs, params=cell.params, nodes=cell.nodes, loss="E",
                  latex=cell.latex, meta=meta, user_names=cell.user_names())
    return built, cell.init
