"""`pathgrad graph`: SVG, PNG, TikZ, Graphviz and Mermaid pictures, checked by reading them
back — the SVG contract and its geometry (no edge through a node, no overlaps, labels on
their own edge) with a parser of our own (svggeom), edges against the expressions' text,
highlighted edges against brute-force path listing, labels against derivatives worked out
by hand, the PNG against the SVG's own coordinates, the TikZ picture through pdflatex."""

from __future__ import annotations

import math
import re
import subprocess

import pytest
import svggeom
from exporthelp import (
    EXAMPLE_FILES,
    example_weight,
    need,
    oracle_edges,
    oracle_paths,
    path_edge_set,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from randomnets import networks

import pathgrad
from pathgrad.render import drawing, scene

DOT_EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$', re.M)
MLP_NAME = re.compile(r"^w(\d+)_(\d+)_(\d+)$")


def _picture(spec, weight=None, label="none", view="graph"):
    sc = scene.build(spec, weight, label, view=view)
    return sc, svggeom.parse(drawing.svg(sc))


# --- the SVG contract -----------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_graph_view_svg_has_every_edge_and_lights_the_weights_paths(run, tmp_path, example):
    weight = example_weight(example)
    out = tmp_path / "g.svg"
    result = run("graph", str(example), "--weight", weight, "--view", "graph", "-o", str(out))
    assert result.exit_code == 0, result.output
    spec = pathgrad.load(example)
    pic = svggeom.parse(out.read_text(encoding="utf-8"))
    assert set(pic.edges) == oracle_edges(spec)
    assert set(pic.nodes) == set(spec.names)
    lit = {e for e, p in pic.edges.items() if "on-path" in p.classes}
    assert lit == path_edge_set(oracle_paths(spec, weight))
    lit_nodes = {n for n, s in pic.nodes.items() if "on-path" in s.classes}
    assert lit_nodes == {n for e in lit for n in e}
    # data flows left to right: every edge ends in a column right of where it starts
    for u, v in pic.edges:
        assert pic.nodes[u].box()[2] < pic.nodes[v].box()[0], (u, v)
    assert pic.nodes[spec.loss].box()[2] == max(s.box()[2] for s in pic.nodes.values())
    assert "loss" in pic.nodes[spec.loss].classes


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("view", ["graph", "auto"])
def test_no_edge_crosses_a_node_and_no_label_overlaps_anything(example, view):
    spec = pathgrad.load(example)
    sc, pic = _picture(spec, example_weight(example), "partial", view)
    if view == "auto" and sc.view == "graph":
        pytest.skip("auto is the graph view for this example (tested beside it)")
    assert svggeom.problems(pic) == []
    assert len(pic.labels) == sum(1 for e in sc.edges if e.label)  # every label placed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=networks(max_nodes=9), label=st.sampled_from(["partial", "value", "none"]))
def test_random_networks_draw_without_collisions(text, label):
    spec = pathgrad.load(text)
    weight = next(iter(spec.params))
    sc, pic = _picture(spec, weight, label)
    assert svggeom.problems(pic) == []
    assert set(pic.edges) == oracle_edges(spec)
    lit = {e for e, p in pic.edges.items() if "on-path" in p.classes}
    assert lit == path_edge_set(oracle_paths(spec, weight))
    assert len(pic.labels) == (0 if label == "none" else len(pic.edges))


@st.composite
def mlps(draw):
    n_in = draw(st.integers(1, 4))
    layers = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)) + [draw(st.integers(1, 2))]
    bias = draw(st.sampled_from(["unit", "layer", "none"]))
    act = draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"]))
    inputs = ", ".join(f"x{i}" for i in range(1, n_in + 1))
    text = f"mlp: {{inputs: [{inputs}], layers: {layers}, bias: {bias}, activation: {act}}}\n"
    return text, n_in, layers, bias


def _unit_oracle(n_in: int, layers: list[int]):
    """The neuron view's weight edges of an mlp, from Nielsen's naming alone."""
    want = {}
    for l, width in enumerate(layers, 1):  # noqa: E741 - the textbook's l
        before = n_in if l == 1 else layers[l - 2]
        for j in range(1, width + 1):
            for k in range(1, before + 1):
                src = f"x{k}" if l == 1 else f"a{l - 1}_{k}"
                want[f"w{l}_{j}_{k}"] = (src, f"a{l}_{j}")
    return want


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=mlps(), data=st.data())
def test_neuron_view_of_random_mlps(net, data):
    text, n_in, layers, bias = net
    spec = pathgrad.load(text)
    weights = _unit_oracle(n_in, layers)
    weight = data.draw(st.sampled_from(sorted(weights)))
    sc, pic = _picture(spec, weight, "none", "auto")
    assert sc.view == "neuron"
    assert svggeom.problems(pic) == []
    drawn = {p.weight: (u, v) for (u, v), p in pic.edges.items() if p.weight}
    assert drawn == weights
    units = {f"a{l}_{j}" for l, w in enumerate(layers, 1) for j in range(1, w + 1)}  # noqa: E741
    assert {n for n, s in pic.nodes.items() if "unit" in s.classes} == units
    assert all(pic.nodes[u].tag == "circle" for u in units)
    # lit: the weight's own edge, then everything downstream of the unit it enters
    l, j, _ = (int(g) for g in MLP_NAME.match(weight).groups())  # noqa: E741
    lit_units = {f"a{l}_{j}"} | {u for u in units if int(u[1:].split("_")[0]) > l}
    want = {weights[weight]} | {e for e in pic.edges if e[0] in lit_units}
    assert {e for e, p in pic.edges.items() if "on-path" in p.classes} == want
    labels = {(t.u, t.v): t.text for t in pic.labels}
    for w, edge in weights.items():  # w^{(l)}_{jk}, in Unicode
        a, b, c = MLP_NAME.match(w).groups()
        digits = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
        subs = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
        assert labels[edge] == f"w⁽{a.translate(digits)}⁾{(b + c).translate(subs)}"
    if bias != "none":
        biases = [t for t in pic.root.iter(f"{svggeom.SVG}text") if "bias" in (t.get("class")
                                                                            or "").split()]
        assert len(biases) == len(units)


def test_the_svg_uses_only_absolute_m_l_c_q_and_translate(examples):
    for name, weight in (("residual", "x"), ("rnn", "w"), ("mazur", "w1_1_1")):
        text = drawing.draw(pathgrad.load(examples / f"{name}.yaml"), "svg", weight, "partial")
        for d in re.findall(r' d="([^"]*)"', text):
            if "z" in d:  # the arrowhead markers in <defs>
                continue
            assert set(re.findall(r"[A-Za-z]", d)) <= set("MLCQ"), d
        for t in re.findall(r'transform="([^"]*)"', text):
            assert re.fullmatch(r"translate\(-?[\d.]+,-?[\d.]+\)", t), t


def test_rnn_is_a_column_per_step_with_each_use_of_w_lit(run, tmp_path, examples):
    out = tmp_path / "rnn.svg"
    result = run("graph", str(examples / "rnn.yaml"), "--weight", "w", "--label", "partial",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    pic = svggeom.parse(out.read_text(encoding="utf-8"))
    uses = {e: p for e, p in pic.edges.items() if p.weight == "w"}
    assert set(uses) == {("h0", "h1"), ("h1", "h2"), ("h2", "h3")}
    assert all("on-path" in p.classes for p in uses.values())
    # u's uses are not on a path from w: x(t) → h(t) stays grey
    assert not any("on-path" in p.classes for p in pic.edges.values() if p.weight == "u")
    xs = [pic.nodes[h].cx for h in ("h0", "h1", "h2", "h3")]
    assert xs == sorted(xs) and len(set(xs)) == 4  # one column per step, in time order
    bands = [t.text for t in pic.root.iter(f"{svggeom.SVG}text") if t.get("class") == "band"]
    assert bands == ["t = 1", "t = 2", "t = 3"]
    assert svggeom.problems(pic) == []


def test_residual_skips_are_arcs_above_the_blocks(examples):
    spec = pathgrad.load(examples / "residual.yaml")
    _, pic = _picture(spec, "x", "none")
    top = min(s.box()[1] for s in pic.nodes.values())
    skips = [("x", "a1"), ("a1", "a2"), ("a2", "a3")]
    for u, v in skips:
        assert min(y for _, y in pic.edges[(u, v)].points) < top, (u, v)
    for e, p in pic.edges.items():
        if e not in skips:
            assert min(y for _, y in p.points) >= top, e


def test_labels_use_display_names(examples):
    spec = pathgrad.load(examples / "question.yaml")
    _, pic = _picture(spec, "w11", "partial")
    labels = {(t.u, t.v): t.text for t in pic.labels}
    # ∂a01/∂w11 = x1·a01·(1 − a01) by hand (σ′ = σ(1 − σ)), in the spec's latex: names
    assert labels[("w11", "a01")] == "x₁·a₀,₁·(1−a₀,₁)"
    assert labels[("a11", "Out")] == "w₃,₁"
    name = pic.nodes["a01"].element.find(f"{svggeom.SVG}text")
    assert "".join(name.itertext()) == "a0,1"  # base a, subscript 0,1 (a tspan)


def test_long_labels_are_cut_and_keep_the_whole_text_in_a_title(tmp_path):
    spec = pathgrad.load("params: {p: 0.5, q: 2}\n"
                         "nodes: {h: sigmoid(p*q + tanh(p) + exp(q*p) + p*q*p), E: h^2}\n")
    sc, pic = _picture(spec, "p", "partial")
    (label,) = [t for t in pic.root.iter(f"{svggeom.SVG}text")
                if t.get("data-source") == "p" and t.get("data-target") == "h"]
    shown = (label.find(f"{svggeom.SVG}title").tail or "")
    whole = label.find(f"{svggeom.SVG}title").text
    assert shown.endswith("…") and len(shown) == scene.LABEL_CHARS
    assert whole.startswith(shown[:-1]) and len(whole) > len(shown)
    assert svggeom.problems(pic) == []


def test_big_nets_grow_instead_of_shrinking_text():
    small = pathgrad.load("mlp: {inputs: [x1], layers: [2, 1]}")
    big = pathgrad.load("mlp: {inputs: [x1, x2, x3, x4, x5, x6], layers: [8, 8, 1]}")
    sizes = []
    for spec in (small, big):
        sc, pic = _picture(spec, "w1_1_1", "none", "neuron")
        assert {t.size for t in pic.labels} == {drawing.LABEL_PX}
        assert svggeom.problems(pic) == []
        sizes.append((pic.width, pic.height))
    assert sizes[1][0] > sizes[0][0] and sizes[1][1] > 2 * sizes[0][1]


def test_wide_layers_are_elided_with_a_count():
    spec = pathgrad.load("mlp: {inputs: [x1, x2], layers: [20, 1]}")
    sc, pic = _picture(spec, "w1_9_1", "none", "neuron")
    units = [n for n, s in pic.nodes.items() if "unit" in s.classes and n.startswith("a1_")]
    notes = [t for t in pic.root.iter(f"{svggeom.SVG}text") if t.get("class") == "elided"]
    assert len(units) < scene.MAX_UNITS and "a1_9" in units  # the weight's own unit stays
    kept = sorted(int(n.split("_")[1]) for n in units)
    assert kept[0] == 1 and kept[-1] == 20
    gaps = [(a, b) for a, b in zip(kept, kept[1:]) if b - a > 1]
    assert [t.text for t in notes] == [f"… {b - a - 1} more units" for a, b in gaps]
    for t, (a, b) in zip(notes, gaps):  # each line sits between the units around its gap
        above, below = pic.nodes[f"a1_{a}"], pic.nodes[f"a1_{b}"]
        assert above.box()[3] < float(t.get("y")) < below.box()[1]
    assert svggeom.problems(pic) == []


def test_a_legend_says_what_colours_and_labels_mean(examples):
    spec = pathgrad.load(examples / "question.yaml")
    _, pic = _picture(spec, "w11", "partial")
    legend = next(g for g in pic.root.iter(f"{svggeom.SVG}g") if g.get("class") == "legend")
    words = " ".join("".join(t.itertext()) for t in legend.iter(f"{svggeom.SVG}text"))
    assert "every path from w₁,₁ to E" in words and "local partial" in words
    assert "input" in words and "param" in words


def test_neuron_view_needs_weighted_sums(run, tmp_path, examples):
    result = run("graph", str(examples / "olah.yaml"), "--view", "neuron", "-o",
                 str(tmp_path / "o.svg"))
    assert result.exit_code == 2 and "weighted sums" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- PNG is the SVG rasterised, TikZ sits at the SVG's coordinates --------------------------


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@pytest.mark.parametrize("name, weight", [("question", "w11"), ("mazur", "w1_1_1"),
                                          ("rnn", "w"), ("residual", "x")])
def test_png_is_the_same_picture_as_the_svg(tmp_path, examples, name, weight):
    from PIL import Image

    spec = pathgrad.load(examples / f"{name}.yaml")
    out = tmp_path / "g.png"
    out.write_bytes(drawing.draw(spec, "png", weight, "partial"))
    pic = svggeom.parse(drawing.draw(spec, "svg", weight, "partial"))
    k = drawing.PNG_SCALE
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert abs(im.width - k * pic.width) <= 2 and abs(im.height - k * pic.height) <= 2
        rgb = im.convert("RGB")
        for node, s in pic.nodes.items():
            # inside the shape, below its name: the shape's fill as the SVG says
            el = next(c for c in s.element if c.tag.endswith(("rect", "circle", "ellipse")))
            want = _hex(el.get("fill"))
            px = rgb.getpixel((round(k * (s.cx - s.w * 0.3)), round(k * (s.cy + s.h * 0.3))))
            assert max(abs(a - b) for a, b in zip(px, want)) < 12, (node, px, want)
        boxes = [t.box() for t in pic.labels]
        for (u, v), p in pic.edges.items():  # the edge is drawn where the SVG says it is
            free = [(x, y) for x, y in p.points[::3] if not any(
                b[0] - 8 <= x <= b[2] + 8 and b[1] - 8 <= y <= b[3] + 8 for b in boxes)]
            inked = 0
            for x, y in free:
                near = [rgb.getpixel((round(k * x) + dx, round(k * y) + dy))
                        for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
                inked += any(max(px) < 235 for px in near)
            assert free and inked >= 0.9 * len(free), (u, v, inked, len(free))


def _tikz_nodes(tex: str) -> dict[str, tuple[float, float]]:
    return {m[1]: (float(m[2]), float(m[3])) for m in
            re.finditer(r"\\node\[[^\]]*\] \((n\d+)\) at \((-?[\d.]+),(-?[\d.]+)\)", tex)}


@pytest.mark.parametrize("name, weight, view", [("question", "w11", "graph"),
                                                ("mazur", "w1_1_1", "neuron"),
                                                ("residual", "x", "graph")])
def test_tikz_compiles_and_puts_nodes_where_the_svg_does(tmp_path, examples, name, weight,
                                                         view):
    spec = pathgrad.load(examples / f"{name}.yaml")
    sc = scene.build(spec, weight, "none", view=view)
    from pathgrad.render.notation import latex_name

    names = {n: latex_name(spec, n) for n in spec.names}
    tex = drawing.tikz(sc, names)
    pic = svggeom.parse(drawing.svg(sc))
    ids = {f"n{i}": n for i, n in enumerate(sc.nodes)}
    at = _tikz_nodes(tex)
    assert set(at) == set(ids)
    for i, (x, y) in at.items():
        s = pic.nodes[ids[i]]
        assert math.isclose(x, s.cx, abs_tol=0.11) and math.isclose(y, s.cy, abs_tol=0.11)
    doc = ("\\documentclass{article}\n\\usepackage{amsmath}\n" + drawing.TIKZ_PREAMBLE
           + "\\begin{document}\n" + tex + "\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    pdflatex = need("pdflatex")
    run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000


# --- the other formats and the command ------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_draws_in_every_format(tmp_path, example):
    from PIL import Image

    spec = pathgrad.load(example)
    weight = example_weight(example)
    want = oracle_edges(spec)
    lit = path_edge_set(oracle_paths(spec, weight))
    dot = drawing.draw(spec, "dot", weight, "partial", view="graph")
    found = {(u, v): attrs for u, v, attrs in DOT_EDGE.findall(dot)}
    assert set(found) == want
    assert {e for e, a in found.items() if 'class="lit"' in a} == lit
    assert all("label=" in a for a in found.values())
    mmd = drawing.draw(spec, "mermaid", weight, "value", view="graph")
    names = dict(re.findall(r"^\s*%% (n\d+) = (\S+)$", mmd, re.M))
    links = re.findall(r"^\s*(n\d+) -->(?:\|[^|]*\|)? (n\d+)$", mmd, re.M)
    assert {(names[a], names[b]) for a, b in links} == want
    png = drawing.draw(spec, "png", weight, "none")
    (tmp_path / "g.png").write_bytes(png)
    geo = drawing.geometry(scene.build(spec, weight, view="auto"))
    with Image.open(tmp_path / "g.png") as im:
        assert abs(im.width - 1.5 * geo.width) <= 2 and abs(im.height - 1.5 * geo.height) <= 2
        assert len(im.convert("RGB").resize((64, 64)).getcolors(4096) or []) > 10


def test_only_edges_on_paths_to_the_loss_are_lit(run, tmp_path):
    # h feeds a dead end and the loss; v enters after w: neither branch is on a path from w
    spec_file = tmp_path / "branches.yaml"
    spec_file.write_text("params: {w: 1, v: 2}\n"
                         "nodes: {h: w*v, dead: h^2, g: v + 1, E: h + g}\nloss: E\n")
    out = tmp_path / "b.svg"
    assert run("graph", str(spec_file), "-w", "w", "-o", str(out)).exit_code == 0
    pic = svggeom.parse(out.read_text(encoding="utf-8"))
    lit = {e for e, p in pic.edges.items() if "on-path" in p.classes}
    spec = pathgrad.load(spec_file)
    assert lit == path_edge_set(oracle_paths(spec, "w")) == {("w", "h"), ("h", "E")}


def test_dot_lists_every_edge_and_marks_the_paths(run, tmp_path, examples):
    out = tmp_path / "q.dot"
    result = run("graph", str(examples / "question.yaml"), "-w", "w11", "--label", "partial",
                 "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("digraph") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    found = {(u, v): attrs or "" for u, v, attrs in DOT_EDGE.findall(text)}
    spec = pathgrad.load(examples / "question.yaml")
    assert set(found) == oracle_edges(spec)
    lit = {e for e, attrs in found.items() if 'class="lit"' in attrs}
    assert lit == path_edge_set(oracle_paths(spec, "w11"))
    # labels are the local partials, as a textbook writes them: σ′(z) = σ(z)(1 − σ(z)),
    # in the spec's display names
    assert 'label="x₁·a₀,₁·(1−a₀,₁)"' in found[("w11", "a01")]
    assert 'label="w₂,₁·a₁,₁·(1−a₁,₁)"' in found[("a01", "a11")]
    assert 'label="w₃,₁"' in found[("a11", "Out")]


def _sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_value_labels_are_the_local_partials_at_the_point(run, tmp_path, examples):
    out = tmp_path / "q.dot"
    result = run("graph", str(examples / "question.yaml"), "--label", "value",
                 "--set", "x1=2", "-o", str(out))
    assert result.exit_code == 0
    found = {(u, v): attrs for u, v, attrs in DOT_EDGE.findall(out.read_text("utf-8"))}
    a01 = _sigma(0.5 * 2)
    a11 = _sigma(-1.2 * a01)
    by_hand = {("w11", "a01"): 2 * a01 * (1 - a01), ("a01", "a11"): -1.2 * a11 * (1 - a11),
               ("w31", "Out"): a11}
    for edge, want in by_hand.items():
        shown = re.search(r'label="([^"]+)"', found[edge]).group(1).replace("−", "-")
        assert float(shown) == pytest.approx(want, rel=1e-3), edge
    assert not any('class="lit"' in a for a in found.values())  # no --weight, no highlight


def test_neuron_value_labels_are_the_weights(examples):
    spec = pathgrad.load(examples / "mazur.yaml")
    _, pic = _picture(spec, "w1_1_1", "value", "neuron")
    labels = {(t.u, t.v): t.text for t in pic.labels}
    assert labels[("x1", "a1_1")] == "w⁽¹⁾₁₁ = 0.15"  # Mazur's w1
    assert labels[("a1_2", "a2_2")] == "w⁽²⁾₂₂ = 0.55"  # his w8


def test_mermaid_flowchart_maps_ids_to_names_and_styles_the_paths(run, tmp_path, examples):
    out = tmp_path / "q.mmd"
    result = run("graph", str(examples / "olah.yaml"), "-w", "b", "-o", str(out))
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("flowchart LR\n")
    names = dict(re.findall(r"^\s*%% (n\d+) = (\S+)$", text, re.M))
    links = [(names[a], names[b]) for a, b in
             re.findall(r"^\s*(n\d+) -->(?:\|[^|]*\|)? (n\d+)$", text, re.M)]
    spec = pathgrad.load(examples / "olah.yaml")
    assert set(links) == oracle_edges(spec) and len(links) == len(set(links))
    styled = re.search(r"linkStyle ([\d,]+) ", text).group(1).split(",")
    assert {links[int(i)] for i in styled} == path_edge_set(oracle_paths(spec, "b"))


def test_mermaid_survives_names_that_are_mermaid_keywords(tmp_path):
    spec = pathgrad.load("params: {end: 1, graph: 2}\nnodes: {style: end*graph, E: style^2}")
    text = drawing.mermaid(scene.build(spec, "end", limit=None))
    body = [line for line in text.splitlines()[1:] if not line.strip().startswith("%%")]
    assert not any(re.search(r"\b(end|graph|style)\b(?![<\"])", line.split(":::")[0])
                   for line in body if "-->" in line)


@pytest.mark.parametrize("args, words", [
    (["-o", "{dir}/g.pdf"], "cannot tell the picture format"),
    (["-w", "w1l", "-o", "{dir}/g.svg"], "w11"),
    (["-w", "E", "-o", "{dir}/g.svg"], "the loss itself"),
    (["--set", "x9=1", "--label", "value", "-o", "{dir}/g.svg"], "x9"),
])
def test_bad_graph_requests_fail_in_one_line_and_write_nothing(run, tmp_path, examples, args,
                                                                words):
    args = [a.format(dir=tmp_path) for a in args]
    result = run("graph", str(examples / "question.yaml"), *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_graph_never_overwrites_the_spec(run, tmp_path, examples):
    spec = tmp_path / "net.dot"
    spec.write_bytes((examples / "olah.yaml").read_bytes())
    result = run("graph", str(spec), "-o", str(spec))
    assert result.exit_code == 2 and "spec itself" in result.stderr
    assert spec.read_bytes() == (examples / "olah.yaml").read_bytes()


def test_too_big_to_draw_is_refused_for_pictures_but_not_for_dot(run, tmp_path, monkeypatch):
    spec = tmp_path / "wide.yaml"
    spec.write_text("params: {" + ", ".join(f"p{i}: 1" for i in range(30)) + "}\n"
                    "nodes: {E: " + " + ".join(f"p{i}" for i in range(30)) + "}\n")
    monkeypatch.setattr(drawing, "MAX_DRAWN_NAMES", 20)
    result = run("graph", str(spec), "-o", str(tmp_path / "wide.svg"))
    assert result.exit_code == 2 and ".dot" in result.stderr
    result = run("graph", str(spec), "-o", str(tmp_path / "wide.dot"))
    assert result.exit_code == 0
    assert len(DOT_EDGE.findall((tmp_path / "wide.dot").read_text("utf-8"))) == 30


def test_layout_puts_leaves_left_of_their_users_and_is_stable(examples):
    spec = pathgrad.load(examples / "question.yaml")
    cols = scene.columns(spec)
    # depth = the longest path from the leaves (worked out from the question's figure)
    assert [cols[n] for n in ("a01", "a11", "a12", "Out", "E")] == [1, 2, 2, 3, 4]
    assert cols["w11"] == cols["x1"] == 0 and cols["w21"] == 1 and cols["y"] == 3
    a = drawing.svg(scene.build(spec, "w11", "partial"))
    b = drawing.svg(scene.build(spec, "w11", "partial"))
    assert a == b  # the same picture every time (files people commit do not churn)


def test_display_names_become_subscripts(examples):
    spec = pathgrad.load(examples / "question.yaml")
    assert scene.label_of(spec, "a01") == scene.Label("a", "0,1")
    assert scene.label_of(spec, "Out") == scene.Label("Out", upright=True)
    plain = pathgrad.load("params: {theta2: 1}\nnodes: {E: theta2^2}")
    assert scene.label_of(plain, "theta2") == scene.Label("θ", "2")
    layered = pathgrad.load("params: {w: 1}\nnodes: {h: w^2, E: h}\n"
                            "latex: {h: 'h^{(2)}_{3}', w: '\\hat{v}_{2}'}")
    assert scene.label_of(layered, "h") == scene.Label("h", "3", "(2)")
    assert scene.label_of(layered, "w") == scene.Label("w")  # too fancy: the name itself
    assert scene.display_text(scene.Label("w", "11", "(1)")) == "w⁽¹⁾₁₁"
    assert scene.display_text(scene.Label("W", "q", "")) == "W_q"  # no Unicode subscript q
