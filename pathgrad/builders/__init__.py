"""Network builders: short YAML blocks that expand into the nodes form.

`mlp:`, `rnn:` and `residual:` each write a whole network (one of them per spec); `batch:`
copies any network, written out or built, once per example. `spec.from_document` calls
`expand(data, doc)` when a builder key is present and then checks the result like any spec.

`expand` returns the nodes-form data (name, description, inputs, params, nodes as grammar
ASTs, loss, latex: the user's own values and display names merged in) and a `meta` dict:

- `builders`: the builders applied, e.g. ["mlp"] or ["mlp", "batch"]
- `summary`: one line per builder (and one for the initializer) for `pathgrad show`
- `mlp` / `rnn` / `residual` / `batch`: the builder's settings after defaults
- `init`: {seed, distribution, initialized: [params that got seeded values]}, if any did
- `groups`, `group_title`: node → "step t" / "example i"; a path's group is
  groups[path.nodes[1]], the first node after the weight (rnn, batch)
- `path_lengths`: {source, target, counts: {edges: paths}} (residual)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..source import Document
from ._common import merge_user_sections

if TYPE_CHECKING:
    from ..graph import Graph

__all__ = ["expand", "path_length_counts", "NETWORK_BUILDERS"]

NETWORK_BUILDERS = ("mlp", "rnn", "residual")


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: building 10^5–10^6 small AST objects otherwise
    triggers collections that rescan the growing heap (2–3× slower); ASTs hold no cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def expand(data: dict, doc: Document) -> tuple[dict[str, Any], dict[str, Any]]:
    """The nodes-form data of a spec that uses builders, and what the builders report."""
    with _no_gc():
        return _expand(data, doc)


def _expand(data: dict, doc: Document) -> tuple[dict[str, Any], dict[str, Any]]:
    network = [k for k in NETWORK_BUILDERS if k in data]
    if len(network) > 1:
        raise SpecError(f"`{network[0]}:` and `{network[1]}:` cannot be used together: one "
                        "network builder per spec", doc.where(network[1]),
                        f"keep one; `batch:` can wrap {network[0]}")
    if "batch" in data:
        from ..spec import from_document
        from . import batch

        inner = {k: v for k, v in data.items() if k != "batch"}
        inner_doc = Document(inner, doc.source, doc.text, doc.lines, doc.key_lines, doc.aliases)
        base = from_document(inner_doc)  # checked (and built) first, errors at their lines
        out, meta = batch.build(doc, base)
        return out, meta
    key = network[0]
    if key == "mlp":
        from .mlp import build
    elif key == "rnn":
        from .rnn import build
    else:
        from .residual import build
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


def path_length_counts(graph: Graph, source: str, target: str) -> dict[int, int]:
    """How many paths from `source` to `target` have each length (in edges), exactly and
    without listing them: `pathgrad.counting.length_counts`, the one implementation."""
    from ..counting import length_counts

    return length_counts(graph, source, target)
