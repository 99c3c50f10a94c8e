"""Network builders: short YAML blocks that expand into the nodes form.

`mlp:`, `rnn:`, `residual:`, `lstm:`, `gru:`, `conv1d:` and `attention:` each write a whole
network (one of them per spec); `batch:`
copies any network, written out or built, once per example. `spec.check.from_document` calls
`expand(data, doc)` when a builder key is present and then checks the result like any spec;
for `batch:` it first checks the network inside and passes it as `base`. Builders write
nodes; they never call the checker.

`expand` returns the nodes-form data (name, description, inputs, params, nodes as grammar
ASTs, loss, latex: the user's own values and display names merged in) and a `meta` dict. The
mlp's nodes and display names are a `LazyNodes` / `LazyLatex` (spec.model): each AST or LaTeX
name is made when first read, the names each node uses are known up front. `meta`:

- `builders`: the builders applied, e.g. ["mlp"] or ["mlp", "batch"]
- `summary`: one line per builder (and one for the initializer) for `pathgrad show`
- `mlp` / `rnn` / `residual` / `lstm` / … / `batch`: the builder's settings after defaults
- `init`: {seed, distribution, initialized: [params that got seeded values]}, if any did
- `groups`, `group_title`: node → "step t" / "position i" / "token i" / "example i"; a path's
  group is groups[path.nodes[1]], the first node after the weight (rnn, lstm, gru, conv1d,
  attention, batch)
- `routes`: {labels: {label: what it is}, edges: {(u, v): label}}, the edges that carry a state
  from one step to the next (lstm: "c" and "h", gru: "direct" and "gates"); see
  pathgrad.analyses.routes
- `probe`: the input the lessons start from (x1_1 or x1: the first input of step 1)
- `path_lengths`: {source, target, counts: {edges: paths}} (residual)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...errors import SpecError
from ..source import Document
from ._common import merge_user_sections

if TYPE_CHECKING:
    from ..model import Spec

__all__ = ["expand", "without_batch", "no_gc", "NETWORK_BUILDERS"]

NETWORK_BUILDERS = ("mlp", "rnn", "residual", "lstm", "gru", "conv1d", "attention")


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: building 10^5–10^6 small AST objects otherwise
    triggers collections that rescan the growing heap (2–3× slower); ASTs hold no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def check_combination(data: dict, doc: Document) -> None:
    """At most one network builder per spec (`batch:` wraps one)."""
    network = [k for k in NETWORK_BUILDERS if k in data]
    if len(network) > 1:
        raise SpecError(f"`{network[0]}:` and `{network[1]}:` cannot be used together: one "
                        "network builder per spec", doc.where(network[1]),
                        f"keep one; `batch:` can wrap {network[0]}")


def without_batch(doc: Document) -> Document:
    """The spec inside a `batch:` block: the document with that block left out."""
    inner = {k: v for k, v in doc.data.items() if k != "batch"}
    return Document(inner, doc.source, doc.text, doc.lines, doc.key_lines, doc.aliases)


def expand(data: dict, doc: Document, base: Spec | None = None
           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The nodes-form data of a spec that uses builders, and what the builders report.

    For `batch:`, `base` is the checked network inside it (see `without_batch`).
    """
    with no_gc():
        return _expand(data, doc, base)


def _expand(data: dict, doc: Document, base: Spec | None
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    check_combination(data, doc)
    if "batch" in data:
        from . import batch

        assert base is not None, "batch: needs the checked network inside it"
        return batch.build(doc, base)
    key = next(k for k in NETWORK_BUILDERS if k in data)
    if key == "mlp":
        from .mlp import build
    elif key == "rnn":
        from .rnn import build
    elif key == "residual":
        from .residual import build
    elif key == "lstm":
        from .lstm import build
    elif key == "gru":
        from .gru import build
    elif key == "conv1d":
        from .conv1d import build
    else:
        from .attention import build
    built, init = build(doc)
    out = merge_user_sections(doc, built, key)
    initialized = init.fill(built.params)
    meta: dict[str, Any] = {"builders": [key], **built.meta}
    if initialized:
        meta["init"] = init.meta(initialized)
        n = len(initialized)
        meta["summary"] = [*meta["summary"],
                           f"init: {n:,} param{'s' * (n != 1)} had no value and got one from "
                           f"seed {init.seed}: {init.meta([])['distribution']}"]
    return out, meta
