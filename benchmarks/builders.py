"""How long an `mlp:` block takes from YAML to a `pathgrad show`, stage by stage.

For MLPs of width 64 and growing depth (up to 50 layers, ≈ 200,000 params), prints seconds for:
the builder alone (`pathgrad.spec.builders.expand`), the whole spec check (`from_document`, builder
included), the path counts, `show` (its table: overview, lengths, rendered to text) and
`show --format json` rendered in-process, and `pathgrad expand`'s YAML. The `show` column is the
one issue 15 targets (mlp [64]*50+[1] ≤ 2 s for the whole command, interpreter start included).
Run: .venv/bin/python benchmarks/builders.py [DEPTH ...]
"""

from __future__ import annotations

import io
import sys
import time

from rich.console import Console, Group
from rich.text import Text

from pathgrad.analyses.lengths import network_path_lengths
from pathgrad.render import jsonout, lengths_table, overview
from pathgrad.spec import from_document
from pathgrad.spec.builders import expand
from pathgrad.spec.dump import to_yaml
from pathgrad.spec.source import read_text


def spec_text(depth: int, width: int = 64) -> str:
    inputs = ", ".join(f"x{i}" for i in range(1, width + 1))
    return f"mlp:\n  inputs: [{inputs}]\n  layers: {[width] * depth}\n  activation: tanh\n"


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def show_table(spec) -> str:  # noqa: ANN001 - a Spec
    """What `pathgrad show SPEC` prints, as text (the path counts are the graph's, cached)."""
    lengths = network_path_lengths(spec, "param" if spec.params else "input")
    out = io.StringIO()
    Console(file=out, width=80, highlight=False, soft_wrap=False).print(Group(
        overview.spec_overview(spec), Text(""), lengths_table.path_lengths(lengths)))
    return out.getvalue()


def main(depths: list[int]) -> None:
    print(f"{'layers':>6} {'params':>8} {'nodes':>6} {'builder':>8} {'spec':>7} {'counts':>7} "
          f"{'show':>6} {'json':>6} {'expand':>7}  (seconds)")
    for depth in depths:
        doc = read_text(spec_text(depth), max_items=10**6)
        _, t_build = timed(lambda: expand(doc.data, doc))  # noqa: B023
        spec, t_spec = timed(lambda: from_document(doc))  # noqa: B023
        _, t_counts = timed(lambda: spec.graph.path_counts(spec.loss))  # noqa: B023
        _, t_show = timed(lambda: show_table(spec))  # noqa: B023
        _, t_json = timed(lambda: jsonout.dumps(jsonout.spec_summary(spec)))  # noqa: B023
        _, t_yaml = timed(lambda: to_yaml(spec))  # noqa: B023
        print(f"{depth:>6} {len(spec.params):>8,} {len(spec.nodes):>6,} {t_build:>8.2f} "
              f"{t_spec:>7.2f} {t_counts:>7.2f} {t_show:>6.2f} {t_json:>6.2f} {t_yaml:>7.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [5, 10, 25, 50])
