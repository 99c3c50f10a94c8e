"""PATHGRAD_MAX_NODES: every builder counts the nodes it would create before building them, and
the count is exact (a network of N nodes loads at a limit of N and is refused at N − 1 with N
in the message); a hand-written spec is counted before any expression is parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import pathgrad
from pathgrad.analyses import toppaths
from pathgrad.cli import cli
from pathgrad.errors import LimitError
from pathgrad.spec import Limits

BUILDERS = {
    "mlp": "mlp: {inputs: [x1, x2], layers: [3, 2]}\n",
    "mlp, linear and bce": "mlp: {inputs: [x], layers: [2, 1], activation: [linear, sigmoid], "
                           "loss: bce}\n",
    "mlp, softmax": "mlp: {inputs: [x1, x2], layers: [3, 3], activation: [tanh, softmax], "
                    "loss: cross_entropy}\n",
    "residual": "residual: {input: x, blocks: 4}\n",
    "residual, no bias": "residual: {input: x, blocks: 3, bias: false, activation: relu}\n",
    "rnn": "rnn: {inputs: [x], steps: 5}\n",
    "rnn, width 3, two inputs, loss at every step": "rnn: {inputs: [x, u], steps: 4, width: 3, "
                                                    "loss: sum}\n",
    "lstm": "lstm: {inputs: 2, hidden: 3, steps: 2}\n",
    "lstm, loss at every step": "lstm: {inputs: 1, hidden: 2, steps: 3, loss: sum}\n",
    "gru": "gru: {inputs: 3, hidden: 1, steps: 4}\n",
    "conv1d": "conv1d: {input: x, length: 8, kernel: 2}\n",
    "conv1d, sum readout": "conv1d: {input: x, length: 6, kernel: 3, readout: sum}\n",
    "attention": "attention: {tokens: 3, dim: 2, head: 1}\n",
    "batch of an mlp": "mlp: {inputs: [x], layers: [2, 1]}\nbatch: {examples: [{x: 1, y: 0}, "
                       "{x: 2, y: 1}, {x: 3, y: 0}]}\n",
    "batch of one": "mlp: {inputs: [x], layers: [1]}\nbatch: {examples: [{x: 1, y: 0}]}\n",
    "mlp, no bias": "mlp: {inputs: [x1, x2], layers: [3, 2], bias: none}\n",
    "mlp, a bias per layer": "mlp: {inputs: [x1, x2], layers: [3, 2], bias: layer}\n",
    "rnn, no bias": "rnn: {inputs: [x], steps: 4, width: 3, bias: false}\n",
    "gru, loss at every step": "gru: {inputs: 2, hidden: 3, steps: 2, loss: sum}\n",
    "conv1d, mean readout, no bias": "conv1d: {input: x, length: 8, kernel: 2, readout: mean, "
                                     "activation: linear, bias: false}\n",
    "attention, unscaled": "attention: {tokens: 3, dim: 1, head: 3, scale: false}\n",
}


def _edges(spec) -> int:
    """The oracle: each node's names, as the built graph has them."""
    return sum(len(spec.graph.deps(v)) for v in spec.nodes)


@pytest.mark.parametrize("text", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_builder_counts_its_nodes_exactly_before_building(monkeypatch, text):
    monkeypatch.delenv("PATHGRAD_MAX_NODES", raising=False)
    count = len(pathgrad.load(text).nodes)
    monkeypatch.setenv("PATHGRAD_MAX_NODES", str(count))
    assert len(pathgrad.load(text, limits=Limits(max_nodes=count)).nodes) == count
    monkeypatch.setenv("PATHGRAD_MAX_NODES", str(count - 1))
    with pytest.raises(LimitError) as err:
        pathgrad.load(text, limits=Limits(max_nodes=count - 1))
    assert f"would have {count:,} nodes; the limit is {count - 1:,}" in err.value.message
    assert f"PATHGRAD_MAX_NODES={count}" in err.value.suggestion


@pytest.mark.parametrize("text", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_builder_counts_its_edges_exactly_before_building(monkeypatch, text):
    monkeypatch.delenv("PATHGRAD_MAX_EDGES", raising=False)
    edges = _edges(pathgrad.load(text))
    monkeypatch.setenv("PATHGRAD_MAX_EDGES", str(edges))
    assert _edges(pathgrad.load(text)) == edges
    monkeypatch.setenv("PATHGRAD_MAX_EDGES", str(edges - 1))
    with pytest.raises(LimitError) as err:
        pathgrad.load(text)
    assert f"would have {edges:,} edges (names its nodes use); the limit is {edges - 1:,}" \
        in err.value.message
    assert f"PATHGRAD_MAX_EDGES={edges}" in err.value.suggestion


def test_a_written_spec_counts_the_names_its_nodes_use():
    text = "params: {w: 1, v: 2}\nnodes:\n  h: w*v + w^2 + pi\n  E: h*w + sin(h)\n"
    assert _edges(pathgrad.load(text)) == 4  # h: w, v; E: h, w (pi is a constant)
    pathgrad.load(text, limits=Limits(max_edges=4))
    with pytest.raises(LimitError) as err:
        pathgrad.load(text, limits=Limits(max_edges=3))
    assert err.value.message == "the spec has 4 edges (names its nodes use); the limit is 3"


def test_a_written_spec_is_counted_before_its_expressions_are_read():
    nodes = "".join(f"  n{i}: w*{i}\n" for i in range(30)) + "  E: n1 +\n"  # E does not parse
    text = f"params: {{w: 1}}\nnodes:\n{nodes}"
    with pytest.raises(LimitError) as err:
        pathgrad.load(text, limits=Limits(max_nodes=30))
    assert err.value.message == "the spec has 31 nodes; the limit is 30"
    assert "PATHGRAD_MAX_NODES=31" in err.value.suggestion


@pytest.mark.parametrize("text", [
    "residual: {input: x, blocks: 10000}\n",
    "mlp: {inputs: [x], layers: [30000]}\n",
    "rnn: {inputs: [x], steps: 6000}\n",
    "lstm: {inputs: 1, hidden: 1, steps: 2000}\n",
    "mlp: {inputs: [x], layers: [750, 750]}\n",  # 3,001 nodes, 1,127,251 edges
])
def test_a_tiny_spec_of_a_huge_network_is_refused_at_once(monkeypatch, text):
    monkeypatch.delenv("PATHGRAD_MAX_NODES", raising=False)
    monkeypatch.delenv("PATHGRAD_MAX_EDGES", raising=False)
    monkeypatch.delenv("PATHGRAD_MAX_NAMES", raising=False)
    start = time.perf_counter()
    with pytest.raises(LimitError) as err:
        pathgrad.load(text)
    assert "nodes; the limit is 10,000" in err.value.message or \
        "edges (names its nodes use); the limit is 1,000,000" in err.value.message
    assert time.perf_counter() - start < 5  # a hang guard: nothing was built


# --- paths written out: PATHGRAD_MAX_PATH_EDGES and PATHGRAD_MAX_FACTORS ---------------------

def _chain(links: int) -> str:
    """w → h1 → … → h{links − 1} → E: one path of `links` edges."""
    body = "".join(f"  h{i}: sin(h{i - 1}) + x\n" for i in range(2, links))
    return f"params: {{w: 0.5}}\ninputs: {{x: 0.3}}\nnodes:\n  h1: w*x\n{body}" \
           f"  E: h{links - 1}^2\n"


def _diamonds(k: int, tail: int) -> str:
    """k diamonds in a row (2^k paths), then a chain of `tail` links to E."""
    lines, prev = [], "w"
    for i in range(1, k + 1):
        lines += [f"  p{i}: sin({prev})", f"  q{i}: cos({prev})", f"  d{i}: p{i} * q{i}"]
        prev = f"d{i}"
    for i in range(1, tail):
        lines.append(f"  t{i}: {prev} + sin({prev})")
        prev = f"t{i}"
    return "params: {w: 0.5}\nnodes:\n" + "\n".join(lines) + f"\n  E: {prev}^2\n"


def test_explain_writes_a_path_as_long_as_the_limit_and_refuses_one_edge_more():
    spec = pathgrad.load(_chain(40))
    ex = pathgrad.explain(spec, "w", limits=Limits(max_path_edges=40))
    assert [len(p.nodes) - 1 for p in ex.paths] == [40] and ex.verified
    with pytest.raises(LimitError) as err:
        pathgrad.explain(spec, "w", limits=Limits(max_path_edges=39))
    assert err.value.message == ("'w' has a path of 40 edges to 'E'; paths are written out up "
                                 "to 39 edges")
    assert "pathgrad backprop" in err.value.suggestion
    assert "PATHGRAD_MAX_PATH_EDGES=40" in err.value.suggestion


def test_explain_counts_every_factor_it_would_write_before_writing_one():
    spec = pathgrad.load(_diamonds(3, 5))
    listed = list(spec.graph.paths("w", "E"))  # brute force: the oracle for the count
    factors = sum(len(p) - 1 for p in listed)
    assert len(listed) == 8
    ex = pathgrad.explain(spec, "w", limits=Limits(max_factors=factors))
    assert sum(len(p.nodes) - 1 for p in ex.paths) == factors
    with pytest.raises(LimitError) as err:
        pathgrad.explain(spec, "w", limits=Limits(max_factors=factors - 1))
    assert err.value.message == (f"the 8 paths from 'w' to 'E' have {factors} local partials "
                                 f"together; paths are written out up to {factors - 1}")
    assert "--top K" in err.value.suggestion and f"PATHGRAD_MAX_FACTORS={factors}" in \
        err.value.suggestion


def test_top_refuses_at_once_when_even_the_shortest_path_is_too_long(monkeypatch):
    spec = pathgrad.load(_chain(30))
    monkeypatch.setattr(toppaths, "point_values", None)  # no value may be computed
    with pytest.raises(LimitError) as err:
        toppaths.top_paths(spec, "w", 3, limits=Limits(max_path_edges=29))
    assert "a path of 30 edges" in err.value.message
    monkeypatch.undo()
    top = toppaths.top_paths(spec, "w", 3, limits=Limits(max_path_edges=30))
    assert [len(p.nodes) - 1 for p in top.paths] == [30]


def test_top_checks_the_paths_it_found(monkeypatch):
    spec = pathgrad.load(_diamonds(2, 3))  # 4 paths, each of 2·2 + 3 edges
    assert {len(p) - 1 for p in spec.graph.paths("w", "E")} == {7}
    top = toppaths.top_paths(spec, "w", 2, limits=Limits(max_factors=14))
    assert sum(len(p.nodes) - 1 for p in top.paths) == 14
    with pytest.raises(LimitError) as err:
        toppaths.top_paths(spec, "w", 2, limits=Limits(max_factors=13))
    assert err.value.message == ("the paths from 'w' to 'E' have 14 local partials together; "
                                 "paths are written out up to 13")


@pytest.mark.parametrize("args", [["explain", "{f}", "-w", "w"],
                                  ["explain", "{f}", "-w", "w", "--top", "2"],
                                  ["page", "{f}", "-w", "w", "-o", "{out}"]])
def test_the_commands_refuse_long_paths_in_one_line_and_write_nothing(tmp_path, args):
    spec = tmp_path / "chain.yaml"
    spec.write_text(_chain(12))
    out = tmp_path / "page.html"
    argv = [a.format(f=spec, out=out) for a in args]
    env = {"PATHGRAD_MAX_PATH_EDGES": "11"}
    result = CliRunner().invoke(cli, argv, env=env)
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and result.stdout == "" and not out.exists(), result.output
    assert lines == ["Error: 'w' has a path of 12 edges to 'E'; paths are written out up to 11 "
                     "edges; `pathgrad backprop` adds them up without writing them out, or "
                     "raise the limit with PATHGRAD_MAX_PATH_EDGES=12"]
    env["PATHGRAD_MAX_PATH_EDGES"] = "12"
    assert CliRunner().invoke(cli, argv, env=env).exit_code == 0


def test_the_issues_5000_node_chain_works_for_a_weight_10_edges_from_the_loss(tmp_path):
    spec = tmp_path / "chain.yaml"
    spec.write_text(_chain(5001))  # h1 … h5000 and E: 5,001 nodes, under the 10,000
    proc = subprocess.run([sys.executable, "-m", "pathgrad", "explain", str(spec), "-w",
                           "h4991", "-f", "json"], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith("PATHGRAD_")})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [len(p["nodes"]) - 1 for p in data["paths"]] == [10] and data["verified"] is True


# --- the work between a weight and the loss: PATHGRAD_MAX_CONE_EDGES -------------------------

WIDE = "mlp: {inputs: [x], layers: [4, 3]}\ninputs: {x: 0.5, y1: 0, y2: 1, y3: 0}\n"


@pytest.mark.parametrize("args", [["explain", "{f}", "-w", "w1_1_1"],
                                  ["explain", "{f}", "-w", "w1_1_1", "--top", "2"],
                                  ["backprop", "{f}", "-w", "w1_1_1"],
                                  ["lengths", "{f}", "-w", "w1_1_1", "-o", "{out}"],
                                  ["gradient", "{f}"],
                                  ["matrix", "{f}"]])
def test_every_command_counts_its_local_partials_before_computing_one(tmp_path, args):
    spec_path = tmp_path / "wide.yaml"
    spec_path.write_text(WIDE)
    spec = pathgrad.load(WIDE)
    graph = spec.graph
    if args[0] in ("gradient", "matrix"):  # every node above the loss: the whole gradient
        nodes = list(spec.nodes)
    else:  # z1_1 and a1_1, the three z2's and a2's, and E: each with every name it uses
        nodes = ["z1_1", "a1_1", "z2_1", "z2_2", "z2_3", "a2_1", "a2_2", "a2_3", "E"]
    count = sum(len(graph.deps(n)) for n in nodes)
    out = tmp_path / "lengths.png"
    argv = [a.format(f=spec_path, out=out) for a in args]
    result = CliRunner().invoke(cli, argv, env={"PATHGRAD_MAX_CONE_EDGES": str(count - 1)})
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and result.stdout == "" and not out.exists(), result.output
    assert len(lines) == 1 and f" use {count:,} names together" in lines[0], lines
    assert f"PATHGRAD_MAX_CONE_EDGES={count}" in lines[0]
    result = CliRunner().invoke(cli, argv, env={"PATHGRAD_MAX_CONE_EDGES": str(count)})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("suffix", ["svg", "png", "dot", "mmd"])
def test_a_picture_counts_the_edges_it_would_read_first(tmp_path, monkeypatch, suffix):
    from pathgrad.render import scene

    spec_path = tmp_path / "wide.yaml"
    spec_path.write_text(WIDE)
    spec = pathgrad.load(WIDE)
    count = sum(len(spec.graph.deps(v)) for v in spec.nodes)  # the oracle: the built graph's
    out = tmp_path / f"net.{suffix}"
    monkeypatch.setattr(scene, "MAX_DRAWN_EDGES", count - 1)
    result = CliRunner().invoke(cli, ["graph", str(spec_path), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists(), result.output
    assert result.stderr.splitlines() == [
        f"Error: the network has {count:,} edges, more than the {count - 1:,} a picture is "
        "made from; draw a smaller net (`pathgrad backprop` and `explain` work from one "
        "weight of this one)"]
    monkeypatch.setattr(scene, "MAX_DRAWN_EDGES", count)
    assert CliRunner().invoke(cli, ["graph", str(spec_path), "-o", str(out)]).exit_code == 0
    assert out.stat().st_size > 0


def test_a_one_line_mlp_of_a_million_edges_is_not_drawn(tmp_path):
    spec = tmp_path / "dense.yaml"
    spec.write_text("mlp: {inputs: [x], layers: [700, 700]}\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pathgrad", "graph", str(spec), "-o",
                           str(tmp_path / "net.dot")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "985,600 edges" in proc.stderr
    assert not (tmp_path / "net.dot").exists()
    assert time.perf_counter() - start < 30  # a hang guard: it took 17 s and 1.3 GB before


def test_a_live_page_counts_the_partials_it_would_hold_first(tmp_path, monkeypatch):
    from pathgrad.render import interactive

    spec_path = tmp_path / "wide.yaml"
    spec_path.write_text(WIDE)
    spec = pathgrad.load(WIDE)
    count = sum(len(spec.graph.deps(v)) for v in spec.nodes)
    out = tmp_path / "page.html"
    argv = ["page", str(spec_path), "-w", "w1_1_1", "-o", str(out)]
    monkeypatch.setattr(interactive, "MAX_PAGE_EDGES", count - 1)
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2 and not out.exists(), result.output
    assert result.stderr.splitlines() == [
        f"Error: the network has {count:,} edges, more than {count - 1:,} a live page can "
        "hold; write a static page with `pathgrad explain -f html -o FILE.html`, or step "
        "through a smaller net"]
    monkeypatch.setattr(interactive, "MAX_PAGE_EDGES", count)
    assert CliRunner().invoke(cli, argv).exit_code == 0 and out.exists()
