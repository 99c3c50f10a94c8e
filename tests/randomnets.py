"""Small random networks for property tests, and brute-force oracles that share no code with
pathgrad's graph stage (own DFS over the parsed expressions)."""

from __future__ import annotations

from hypothesis import strategies as st

from pathgrad.spec import grammar as g

# "nice" values make exact ties (2·3 = 1·6) and zero partials (relu below 0, a weight of 0)
VALUES = ["-2", "-1", "-0.5", "0", "0.5", "1", "1.5", "2", "3", "0.3", "-0.7"]
UNARY = ["sigmoid", "tanh", "relu", "sin", "exp"]


@st.composite
def networks(draw: st.DrawFn, max_nodes: int = 6) -> str:
    """A spec whose loss E uses every sink; leaves p0… (params) and x0… (inputs)."""
    n_params = draw(st.integers(1, 3))
    n_inputs = draw(st.integers(0, 2))
    params = [f"p{i}" for i in range(n_params)]
    inputs = [f"x{i}" for i in range(n_inputs)]
    names = params + inputs
    values = {n: draw(st.sampled_from(VALUES)) for n in names}
    nodes: dict[str, str] = {}
    for i in range(draw(st.integers(1, max_nodes))):
        picks = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
        expr = picks[0]
        for other in picks[1:]:
            op = draw(st.sampled_from(["+", "-", "*"]))
            expr = f"{expr} {op} {other}"
        if draw(st.booleans()):
            expr = f"{draw(st.sampled_from(UNARY))}({expr})"
        if draw(st.booleans()):
            expr = f"{draw(st.sampled_from(['0.5', '2', '-1', '3']))}*({expr})"
        name = f"h{i}"
        nodes[name] = expr
        names.append(name)
    used = {u for e in nodes.values() for u in g.free_names(g.parse(e))}
    sinks = [n for n in nodes if n not in used]
    nodes["E"] = " + ".join(f"({n})^2" for n in sinks)
    lines = ["inputs: {" + ", ".join(f"{n}: {values[n]}" for n in inputs) + "}",
             "params: {" + ", ".join(f"{n}: {values[n]}" for n in params) + "}",
             "nodes:", *(f"  {n}: {e}" for n, e in nodes.items()), "loss: E"]
    return "\n".join(lines) + "\n"


def children(spec) -> dict[str, list[str]]:  # noqa: ANN001 - a Spec
    """name → the nodes using it, from the expressions themselves, in declaration order."""
    out: dict[str, list[str]] = {n: [] for n in spec.names}
    for v, expr in spec.nodes.items():
        for u in dict.fromkeys(g.free_names(expr)):
            if u in out:
                out[u].append(v)
    return out


def all_paths(spec, source: str, target: str) -> list[tuple[str, ...]]:  # noqa: ANN001
    """Every path, by recursion, children in declaration order (= the listing's order for
    specs declared in dependency order)."""
    kids = children(spec)

    def walk(n: str) -> list[tuple[str, ...]]:
        if n == target:
            return [(n,)]
        return [(n, *rest) for c in kids[n] for rest in walk(c)]

    return walk(source)
