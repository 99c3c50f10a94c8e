"""Exports — LaTeX, Markdown, HTML, the Jupyter reprs and the CLI that writes them — checked
against independent oracles: pdflatex itself (and its log), XML parsers, brute-force path
listing over the expressions' text, and the question's network derived by hand."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from exporthelp import (
    EXAMPLE_FILES,
    example_weight,
    need,
    oracle_edges,
    oracle_paths,
    path_edge_set,
)
from hypothesis import given
from hypothesis import strategies as st

import pathgrad
from pathgrad.analyses.explanation import explain
from pathgrad.render import html, latex, markdown, texmath
from pathgrad.render.notation import display_name

OVERFULL_PT = 1.0  # TeX reports overfull boxes to 0.1pt; anything visible fails


def mlp64() -> str:
    """A 3-hidden-layer width-4 sigmoid MLP written as nodes: 4·4·4 = 64 paths from x to E.
    Display names with superscripts; a name and description full of LaTeX specials; and a
    display names with superscripts (a display name that tries to read a file is refused when
    the spec is loaded: tests/bad_specs/latex_input.yaml)."""
    lines = ["name: 'Tricky 50% $ & # _ { } ~ ^ \\ | < > — σ · é 日'",
             "description: 'every path from x counts: <b>*bold*</b> 100%'",
             "inputs: {x: 0.5, y: 1}", "params:"]
    nodes, names = [], {}
    prev = ["x"]
    for layer in range(1, 4):
        cur = []
        for j in range(1, 5):
            terms = []
            for i, p in enumerate(prev, 1):
                w = f"w{layer}_{j}_{i}"
                lines.append(f"  {w}: {round(0.1 * ((layer * 7 + j * 3 + i) % 11) - 0.5, 2)}")
                names[w] = f"w^{{({layer})}}_{{{j},{i}}}"
                terms.append(f"{w}*{p}")
            h = f"h{layer}_{j}"
            nodes.append(f"  {h}: sigmoid({' + '.join(terms)})")
            names[h] = f"h^{{({layer})}}_{{{j}}}"
            cur.append(h)
        prev = cur
    lines += [f"  v{j}: {0.3 * j - 0.6:.2f}" for j in range(1, 5)]
    nodes.append("  out: " + " + ".join(f"v{j}*{p}" for j, p in enumerate(prev, 1)))
    nodes.append("  E: (out - y)^2 / 2")
    lines += ["nodes:", *nodes, "loss: E", "latex:"]
    lines += [f"  {k}: '{v}'" for k, v in names.items()]
    return "\n".join(lines) + "\n"


def long_chain() -> str:
    """One path of 31 factors, and a last partial that is a sum of 41 terms: both must be
    broken across lines to fit the page."""
    lines = ["inputs: {x: 0.3}", "params: {" + ", ".join(f"w{i}: 0.{i % 9 + 1}"
                                                       for i in range(1, 31)) + "}",
             "nodes:", "  n0: x"]
    lines += [f"  n{i}: tanh(w{i}*n{i - 1})" for i in range(1, 31)]
    lines.append("  c: " + " + ".join(f"{k}*w{k % 30 + 1}" for k in range(1, 41)))
    lines.append("  E: (n30 + c)^2")
    lines.append("loss: E")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def explained() -> dict[str, object]:
    """Every shipped example explained for the weight its header names."""
    return {f.stem: explain(pathgrad.load(f), example_weight(f)) for f in EXAMPLE_FILES}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, explained) -> dict[str, tuple[int, str, str]]:
    """pdflatex on every example, the 64-path network, the long chain and a fragment wrapped
    in a minimal document — all at once, each compiled once for all the tests below."""
    pdflatex = need("pdflatex")
    folder = tmp_path_factory.mktemp("latex")
    docs = {name: latex.render(ex) for name, ex in explained.items()}
    docs["mlp64"] = latex.render(explain(pathgrad.load(mlp64()), "x"))
    docs["long_chain"] = latex.render(explain(pathgrad.load(long_chain()), "w1"))
    # every printable ASCII character and the Unicode people type, in the name and description
    everything = "".join(map(chr, range(32, 127))) + (
        " —–‘’“”…·×−≤≥≠≈→←∂∑√∞±°²³¹⁰✓✗ αβγθλσΩ éèêëñçüöäÅ 日本 🙂\u00a0\t")
    question = pathgrad.load(EXAMPLE_FILES[0].parent / "question.yaml")
    odd = dataclasses.replace(question, name=everything, description=everything[::-1])
    docs["escaping"] = latex.render(explain(odd, "w11"))
    docs["fragment"] = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                        + latex.render(explained["question"], fragment=True)
                        + "\\end{document}\n")
    procs = {}
    for name, tex in docs.items():
        (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
        procs[name] = subprocess.Popen(
            [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
             f"{name}.tex"], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {}
    for name, proc in procs.items():
        code = proc.wait(timeout=180)
        log = (folder / f"{name}.log").read_text(encoding="latin-1")
        out[name] = (code, log, docs[name])
    return out


COMPILED = [f.stem for f in EXAMPLE_FILES] + ["mlp64", "long_chain", "escaping", "fragment"]


@pytest.mark.parametrize("name", COMPILED)
def test_latex_compiles_with_pdflatex_and_nothing_runs_off_the_page(compiled, name):
    code, log, _ = compiled[name]
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert code == 0, f"pdflatex failed on {name}: {errors[:3]}"
    assert re.search(r"Output written on .*\((\d+) pages?", log)
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide", log)]
    assert all(x <= OVERFULL_PT for x in overfull), f"{name}: overfull lines {overfull}"
    assert "Missing character" not in log
    assert "mktexpk" not in log  # no bitmap font had to be generated (no TS1 symbols)


def test_latex_has_one_labelled_equation_per_path_in_the_questions_notation(compiled):
    tex = compiled["question"][2]
    # the chain exactly as the question writes it, with the spec's display names
    chain = (r"\frac{\partial E}{\partial \mathrm{Out}} \cdot "
             r"\frac{\partial \mathrm{Out}}{\partial a_{1,1}} \cdot "
             r"\frac{\partial a_{1,1}}{\partial a_{0,1}} \cdot "
             r"\frac{\partial a_{0,1}}{\partial w_{1,1}}")
    assert chain in tex
    spec = pathgrad.load(EXAMPLE_FILES[0].parent / "question.yaml")
    n = len(oracle_paths(spec, "w11"))
    assert re.findall(r"\\tag\{Path (\d+)\}", tex) == [str(i) for i in range(1, n + 1)]
    # the local partials written out: σ′ as a(1 − a), in display names
    assert r"w_{2,1} a_{1,1} \left(1 - a_{1,1}\right)" in tex
    assert r"\tikzpicture" in tex or r"\begin{tikzpicture}" in tex
    assert "Verified" in tex and r"\tag{Sum}" in tex


def _sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def question_by_hand(w11: float = 0.5) -> tuple[float, float, float]:
    """The question's network with σ′ = σ(1 − σ) written out by hand: path 1, path 2, E."""
    x1, y, w21, w22, w31, w32 = 1.0, 0.0, -1.2, 0.8, 1.5, -0.7
    a01 = _sigma(w11 * x1)
    a11, a12 = _sigma(w21 * a01), _sigma(w22 * a01)
    out = w31 * a11 + w32 * a12
    common = (out - y) * x1 * a01 * (1 - a01)
    return (common * w31 * w21 * a11 * (1 - a11), common * w32 * w22 * a12 * (1 - a12),
            (out - y) ** 2 / 2)


def _align_blocks(tex: str) -> list[str]:
    return re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", tex, re.S)


def test_latex_numbers_are_the_hand_derived_path_values_and_their_sum(compiled):
    tex = compiled["question"][2]
    p1, p2, _ = question_by_hand()
    finals = []
    for block in _align_blocks(tex):
        if r"\tag{Path" in block:
            finals.append(float(block.strip().splitlines()[-1].lstrip("&= ")))
    assert finals == pytest.approx([p1, p2], rel=1e-5)
    # the sum block ends with the total, which a central difference of E confirms
    total = next(b for b in _align_blocks(tex) if r"\tag{Sum}" in b).strip().splitlines()[-1]
    h = 1e-6
    fd = (question_by_hand(0.5 + h)[2] - question_by_hand(0.5 - h)[2]) / (2 * h)
    assert float(total.lstrip("&= ")) == pytest.approx(fd, rel=1e-5)


def test_latex_escapes_user_text(compiled):
    assert compiled["escaping"][2].isascii()  # pdflatex sees no raw Unicode at all
    tex = compiled["mlp64"][2]
    assert r"50\%" in tex and r"\$" in tex and r"\&" in tex and r"\#" in tex
    # past 8 paths each path is one numbered line after the partials it shares
    listed = re.findall(r"\\tag\{Path (\d+)\}", tex) or re.findall(r"\\text\{\((\d+)\)\}", tex)
    assert sorted(map(int, listed)) == list(range(1, 65))


def test_a_64_path_handout_stays_a_few_pages(compiled):
    # the values as a table, the sum written once (Path 1 + … + Path 64), no 1.5-page
    # direct derivative: the 64 paths themselves take the room
    code, log, tex = compiled["mlp64"]
    pages = int(re.search(r"Output written on .*\((\d+) pages?", log).group(1))
    assert code == 0 and pages <= 8, pages
    assert tex.count(r"\text{Path } 64") == 1 and "Overfull" not in log


def test_long_products_are_broken_across_lines(compiled):
    tex = compiled["long_chain"][2]
    block = next(b for b in _align_blocks(tex) if r"\tag{Path 1}" in b)
    rows = block.split(" \\\\\n")
    continued = [r for r in rows if r.startswith(r"&\qquad")]
    assert len(continued) >= 3, "a 31-factor chain cannot fit on one line"
    # every factor is still there, in order: loss side first
    arg = r"((?:[^{}]|\{[^{}]*\})*)"
    fracs = re.findall(r"\\frac\{\\partial %s\}\{\\partial %s\}" % (arg, arg), block)
    assert len(fracs) == 31  # w1 → n1 → … → n30 → E
    assert fracs[0] == ("E", "n_{30}") and fracs[-1] == ("n_{1}", "w_{1}")


def test_latex_fragment_is_only_math(explained):
    frag = latex.render(explained["question"], fragment=True)
    assert frag.startswith(r"\begin{align*}") and r"\documentclass" not in frag
    assert frag.count(r"\begin{align*}") == frag.count(r"\end{align*}") >= 3
    assert r"\begin{tikzpicture}" not in frag


def _brace_balanced(s: str) -> bool:
    depth = 0
    for i, ch in enumerate(s):
        if ch in "{}" and (i == 0 or s[i - 1] != "\\"):
            depth += 1 if ch == "{" else -1
            if depth < 0:
                return False
    return depth == 0


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_markdown_has_the_path_table_and_renderable_math_blocks(explained, example):
    ex = explained[example.stem]
    md = markdown.render(ex)
    paths = oracle_paths(ex.spec, ex.weight)
    rows = [line for line in md.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(paths)
    for row in rows:  # six cells: no unescaped | inside a cell
        assert len(re.split(r"(?<!\\)\|", row)) == 8
    def name(n: str) -> str:
        return " ".join(display_name(ex.spec, n, "latex").split())

    # the chain in display names, as inline math: $\partial E/\partial \mathrm{Out} \cdot …$
    chains = {"$" + r" \cdot ".join(rf"\partial {name(v)}/\partial {name(u)}"
                                    for u, v in reversed(list(zip(p, p[1:])))) + "$"
              for p in paths}
    shown = {re.split(r"(?<!\\)\|", r)[3].strip() for r in rows}
    assert shown == chains
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", md, re.S | re.M)
    assert md.count("$$") == 2 * len(blocks) and len(blocks) >= len(paths) + 1
    for b in blocks:
        assert b.startswith(r"\begin{aligned}") and b.endswith(r"\end{aligned}")
        assert _brace_balanced(b), b
        assert b.count(r"\left") == b.count(r"\right")
        assert r"\tag" not in b and "$" not in b


class _Strict(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.void = {"meta", "br", "img", "input", "link", "hr"}

    def handle_starttag(self, tag, attrs):
        if tag not in self.void:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_html_is_one_well_formed_offline_page_whose_rows_light_their_own_edges(explained,
                                                                              example):
    ex = explained[example.stem]
    page = html.render(ex)
    root = ET.fromstring(page)  # well-formed XML
    parser = _Strict()
    parser.feed(page)
    assert parser.stack == []
    assert "<math" in page and "<svg" in page
    # nothing to load: no URLs, no external scripts, styles or images
    assert not re.search(r"https?://|\bsrc=|<link\b|@import", page)
    assert set(re.findall(r"url\((.)", page)) <= {"#"}
    svg = next(root.iter("svg"))
    edges = {p.get("id"): (p.get("data-u"), p.get("data-v"))
             for p in svg.iter("path") if "edge" in (p.get("class") or "")}
    assert set(edges.values()) == oracle_edges(ex.spec)
    paths = oracle_paths(ex.spec, ex.weight)
    lit = {edges[p.get("id")] for p in svg.iter("path") if "lit" in (p.get("class") or "")}
    assert lit == path_edge_set(paths)
    rows = [tr for tr in root.iter("tr") if tr.get("class") == "path"]
    assert len(rows) == len(paths)
    linked = set()
    for tr in rows:
        route = [edges[i] for i in tr.get("data-edges").split()]
        nodes = tuple([route[0][0], *(v for _, v in route)])
        assert all(a[1] == b[0] for a, b in zip(route, route[1:]))
        linked.add(nodes)
        fracs = [m for m in tr.iter("mfrac")]
        assert len(fracs) >= len(route)  # one Leibniz fraction per edge in the chain
    assert linked == set(paths)


def test_jupyter_reprs(explained):
    from pathgrad.render.notebook import wrap

    ex = wrap(explained["question"])  # what pathgrad.explain returns
    page = ex._repr_html_()
    ET.fromstring(page)
    assert "<math" in page and "<svg" in page and 'class="pathgrad"' in page
    # the styles are scoped to the page's own container, so a notebook keeps its look
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    selectors = [s.strip() for s in re.findall(r"([^{}]+)\{", css)]
    assert selectors and all(s.strip().startswith(".pathgrad") for sel in selectors
                             for s in sel.split(","))
    tex = ex._repr_latex_()
    assert tex.startswith(r"\begin{align*}") and r"\documentclass" not in tex
    assert r"\frac{\partial a_{0,1}}{\partial w_{1,1}}" in tex
    md = ex._repr_markdown_()
    assert "| # | path |" in md and "$$" in md


# --- the CLI --------------------------------------------------------------------------------


@pytest.fixture
def spec_copy(tmp_path, examples) -> Path:
    target = tmp_path / "question.yaml"
    target.write_bytes((examples / "question.yaml").read_bytes())
    return target


@pytest.mark.parametrize("ext, check", [
    (".tex", lambda t: t.startswith(r"\documentclass") and r"\end{document}" in t),
    (".md", lambda t: "| # | path |" in t and "$$" in t),
    (".html", lambda t: t.startswith("<!DOCTYPE html>") and "<math" in t),
    (".json", lambda t: json.loads(t)["path_count"] == 2),
    (".txt", lambda t: "w11 → a01 → a11 → Out → E" in t),
])
def test_output_format_follows_the_extension(run, spec_copy, ext, check):
    out = spec_copy.parent / f"out{ext}"
    result = run("explain", str(spec_copy), "--weight", "w11", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert check(out.read_text(encoding="utf-8"))
    assert not list(spec_copy.parent.glob(".out*.tmp"))  # the temp file was renamed


def test_format_wins_over_the_extension_and_fragment_prints_only_math(run, spec_copy):
    result = run("explain", str(spec_copy), "-w", "w11", "--format", "latex", "--fragment")
    assert result.exit_code == 0
    assert result.stdout.startswith(r"\begin{align*}")
    out = spec_copy.parent / "notes.txt"
    result = run("explain", str(spec_copy), "-w", "w11", "-f", "markdown", "-o", str(out))
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("## ")


@pytest.mark.parametrize("args, words", [
    (["--fragment", "-o", "{dir}/x.md"], "--fragment"),
    (["-o", "{spec}"], "the spec itself"),
    (["-o", "{dir}/x.svg"], "pathgrad graph"),
    (["-o", "{dir}/missing/x.tex"], "does not exist"),
])
def test_bad_output_requests_fail_in_one_line_and_write_nothing(run, spec_copy, args, words):
    before = sorted(p.name for p in spec_copy.parent.iterdir())
    text = spec_copy.read_bytes()
    args = [a.format(dir=spec_copy.parent, spec=spec_copy) for a in args]
    result = run("explain", str(spec_copy), "-w", "w11", *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0]
    assert sorted(p.name for p in spec_copy.parent.iterdir()) == before
    assert spec_copy.read_bytes() == text


# --- the LaTeX building blocks ---------------------------------------------------------------

def _unescaped_braces_balanced(tex: str) -> bool:
    return _brace_balanced(re.sub(r"\\[{}$&#%_]", "", tex))


@given(st.text(max_size=60))
def test_any_text_becomes_ascii_latex_with_balanced_groups(s):
    for out in (texmath.text(s), texmath.prose(s)):
        assert out.isascii()
        assert _unescaped_braces_balanced(out)
        shifts = out.replace(r"\$", "").split("$")
        assert len(shifts) % 2 == 1  # math shifts come in pairs
        for text_part in shifts[::2]:  # outside math: every special character escaped
            assert not re.search(r"(?<!\\)[&#%_^$]", text_part.replace(r"\^{}", ""))


def test_unsafe_display_names_fall_back_to_sympys(examples):
    spec = pathgrad.load(examples / "question.yaml")
    odd = dataclasses.replace(spec, latex={**spec.latex, "w11": r"\input{x}", "w21": "w_{2",
                                           "w22": r"\hat{w}_{2,2}", "x1": "θ_1"})
    safe = texmath.safe_spec(odd).latex
    assert "w11" not in safe and "w21" not in safe
    assert safe["w22"] == r"\hat{w}_{2,2}" and safe["x1"] == r"{\theta}_1"


def test_pieces_break_long_sums_between_terms_and_keep_every_term(examples):
    import sympy as sp

    spec = pathgrad.load("params: {" + ", ".join(f"p{i}: 1" for i in range(30)) + "}\n"
                         "nodes: {E: " + " + ".join(f"p{i}^2" for i in range(30)) + "}")
    note = texmath.TexNotation(spec)
    expr = sp.Add(*(sp.Symbol(f"p{i}", real=True) ** 2 for i in range(30)))
    pieces = note.pieces(expr, 20)
    lines = texmath.pack(pieces, 20)
    assert len(lines) > 1 and all(texmath.em(line) <= 20 for line in lines)
    assert sorted(re.findall(r"p_\{(\d+)\}", " ".join(lines)), key=int) == [
        str(i) for i in range(30)]
