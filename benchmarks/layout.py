"""Layered layouts compared on pathgrad's own graphs: pathgrad's (grandalf's ordering with
dummy vertices + rows by isotonic regression) against python-igraph's `layout_sugiyama`.

For each graph (the graph view of every example, then sigmoid MLPs of growing size) it prints
the crossings between neighbouring columns (dummy hops counted, as `layout.crossings` does),
how many pairs of vertices of one column sit closer than one row (dummies and nodes alike:
a drawing would put them on top of each other) and the seconds taken (median of 3).

    .venv/bin/python benchmarks/layout.py          # igraph's columns are skipped without it
    .venv/bin/pip install igraph                   # to compare (not a pathgrad dependency)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pathgrad  # noqa: E402
from pathgrad.render import layout, scene  # noqa: E402


def _graph(spec):  # noqa: ANN001, ANN202
    names = list(spec.graph.order)
    edges = [(u, v) for v in names for u in spec.graph.deps(v)]
    return names, edges, scene.columns(spec)


def _close(lay: layout.Layered, names, edges, column, gap: float) -> int:  # noqa: ANN001
    """Pairs of points (nodes and dummies) in one column less than `gap` rows apart."""
    by_col: dict[int, list[float]] = {}
    for n in names:
        by_col.setdefault(column[n], []).append(lay.row[n])
    for e in edges:
        for c, r in lay.bends.get(e, ()):
            by_col.setdefault(c, []).append(r)
    bad = 0
    for rows in by_col.values():
        rows.sort()
        bad += sum(1 for a, b in zip(rows, rows[1:]) if b - a < gap - 1e-9)
    return bad


def _igraph(names, edges, column) -> layout.Layered | None:  # noqa: ANN001
    try:
        import igraph
    except ImportError:
        return None
    index = {n: i for i, n in enumerate(names)}
    g = igraph.Graph(n=len(names), edges=[(index[u], index[v]) for u, v in edges],
                     directed=True)
    lay = g.layout_sugiyama(layers=[column[n] for n in names], hgap=1, vgap=1, maxiter=100)
    # igraph 1.0 returns every dummy in edge order but splits the list wrongly: re-split it
    points = [p for r in lay.edge_routing for p in r]
    bends, i = {}, 0
    for u, v in edges:
        k = column[v] - column[u] - 1
        bends[(u, v)] = tuple((round(p[1]), p[0]) for p in points[i:i + k])
        i += k
    return layout.Layered({n: lay.coords[index[n]][0] for n in names}, bends)


def _time(fn, *args) -> tuple[float, object]:  # noqa: ANN001
    runs, result = [], None
    for _ in range(3):
        t = time.perf_counter()
        result = fn(*args)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), result


def main() -> None:
    cases = [(p.stem, pathgrad.load(p)) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    for layers in ([4, 4, 4, 1], [8, 8, 8, 1], [16, 16, 16, 1]):
        text = "mlp: {inputs: [x1, x2, x3, x4], layers: %s}" % layers
        cases.append((f"mlp 4-{'-'.join(map(str, layers))}", pathgrad.load(text)))
    print("| graph | names | edges | pathgrad crossings | overlaps | s | "
          "igraph crossings | overlaps | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, spec in cases:
        names, edges, column = _graph(spec)
        t1, ours = _time(layout.layered, names, edges, column)
        row = [name, len(names), len(edges), layout.crossings(ours, edges, column),
               _close(ours, names, edges, column, layout.DUMMY_GAP), f"{t1:.3f}"]
        t2, theirs = _time(_igraph, names, edges, column)
        if theirs is None:
            row += ["—", "—", "—"]
        else:
            row += [layout.crossings(theirs, edges, column),
                    _close(theirs, names, edges, column, layout.DUMMY_GAP), f"{t2:.3f}"]
        print("| " + " | ".join(str(x) for x in row) + " |")


if __name__ == "__main__":
    main()
