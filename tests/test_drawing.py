"""`pathgrad graph`: SVG, PNG, Graphviz and Mermaid pictures, checked by parsing them — edges
against the expressions' text, highlighted edges against brute-force path listing, labels
against derivatives worked out by hand, and the layout's left-to-right order."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from exporthelp import EXAMPLE_FILES, example_weight, oracle_edges, oracle_paths, path_edge_set

import pathgrad
from pathgrad.render import drawing, scene

SVG = "{http://www.w3.org/2000/svg}"
DOT_EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$', re.M)


def _svg(path):
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    edges = {(p.get("data-u"), p.get("data-v")): p for p in root.iter(f"{SVG}path")
             if "edge" in (p.get("class") or "")}
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        x, w = float(rect.get("x")), float(rect.get("width"))
        boxes[g.get("data-name")] = (x, x + w, g.get("class"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "edge-label"]
    return root, edges, boxes, labels


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_svg_has_every_edge_left_to_right_with_the_weights_paths_lit(run, tmp_path, example):
    weight = example_weight(example)
    out = tmp_path / "g.svg"
    result = run("graph", str(example), "--weight", weight, "-o", str(out))
    assert result.exit_code == 0, result.output
    spec = pathgrad.load(example)
    _, edges, boxes, _ = _svg(out)
    assert set(edges) == oracle_edges(spec)
    assert set(boxes) == set(spec.names)
    lit = {e for e, p in edges.items() if "lit" in p.get("class")}
    assert lit == path_edge_set(oracle_paths(spec, weight))
    # data flows left to right: every edge ends in a column right of where it starts,
    # and the loss is the rightmost box
    for u, v in edges:
        assert boxes[u][1] < boxes[v][0], (u, v)
    assert boxes[spec.loss][1] == max(right for _, right, _ in boxes.values())
    assert "loss" in boxes[spec.loss][2]


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_draws_in_every_format(tmp_path, example):
    from PIL import Image

    spec = pathgrad.load(example)
    weight = example_weight(example)
    want = oracle_edges(spec)
    lit = path_edge_set(oracle_paths(spec, weight))
    dot = drawing.draw(spec, "dot", weight, "partial")
    found = {(u, v): attrs for u, v, attrs in DOT_EDGE.findall(dot)}
    assert set(found) == want
    assert {e for e, a in found.items() if 'class="lit"' in a} == lit
    assert all("label=" in a for a in found.values())
    mmd = drawing.draw(spec, "mermaid", weight, "value")
    names = dict(re.findall(r"^\s*%% (n\d+) = (\S+)$", mmd, re.M))
    links = re.findall(r"^\s*(n\d+) -->(?:\|[^|]*\|)? (n\d+)$", mmd, re.M)
    assert {(names[a], names[b]) for a, b in links} == want
    png = drawing.draw(spec, "png", weight, "none")
    (tmp_path / "g.png").write_bytes(png)
    geo = drawing.geometry(scene.build(spec, weight))
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
    _, edges, _, _ = _svg(out)
    lit = {e for e, p in edges.items() if "lit" in p.get("class")}
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
    # labels are the local partials, as a textbook writes them: σ′(z) = σ(z)(1 − σ(z))
    assert 'label="x1·a01·(1−a01)"' in found[("w11", "a01")]
    assert 'label="w21·a11·(1−a11)"' in found[("a01", "a11")]
    assert 'label="w31"' in found[("a11", "Out")]


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


def test_png_has_the_pictures_size_and_is_not_blank(run, tmp_path, examples):
    from PIL import Image

    out = tmp_path / "q.png"
    result = run("graph", str(examples / "question.yaml"), "-w", "w11", "--label", "partial",
                 "-o", str(out))
    assert result.exit_code == 0
    geo = drawing.geometry(scene.build(pathgrad.load(examples / "question.yaml"), "w11",
                                       "partial"))
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert abs(im.width - 1.5 * geo.width) <= 2 and abs(im.height - 1.5 * geo.height) <= 2
        rgb = im.convert("RGB")
        small = rgb.resize((rgb.width // 4, rgb.height // 4))
        data = small.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3]))
    assert len(set(pixels)) > 50
    assert sum(p != (255, 255, 255) for p in pixels) > 0.03 * len(pixels)
    red = sum(1 for r, g, b in pixels if r > 180 and g < 90 and b < 90)  # the lit paths
    assert red > 0.002 * len(pixels)


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


def test_layout_puts_leaves_left_of_their_users_and_orders_rows_stably(examples):
    spec = pathgrad.load(examples / "question.yaml")
    cols = scene.columns(spec)
    # depth = the longest path from the leaves (worked out from the question's figure)
    assert [cols[n] for n in ("a01", "a11", "a12", "Out", "E")] == [1, 2, 2, 3, 4]
    assert cols["w11"] == cols["x1"] == 0 and cols["w21"] == 1 and cols["y"] == 3
    a = scene.build(spec, "w11")
    b = scene.build(spec, "w11")
    assert a == b  # the same picture every time (files people commit do not churn)


def test_display_names_become_subscripts(examples):
    spec = pathgrad.load(examples / "question.yaml")
    assert scene.label_of(spec, "a01") == scene.Label("a", "0,1")
    assert scene.label_of(spec, "Out") == scene.Label("Out", upright=True)
    plain = pathgrad.load("params: {theta2: 1}\nnodes: {E: theta2^2}")
    assert scene.label_of(plain, "theta2") == scene.Label("θ", "2")
    layered = pathgrad.load("params: {w: 1}\nnodes: {h: w^2, E: h}\n"
                            "latex: {h: 'h^{(2)}_{3}', w: '\\frac{a}{b}'}")
    assert scene.label_of(layered, "h") == scene.Label("h", "3", "(2)")
    assert scene.label_of(layered, "w") == scene.Label("w")  # too fancy: the name itself
