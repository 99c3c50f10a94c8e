"""`pathgrad explain --format beamer`: a deck that compiles, one overlay per path with that
path (and only it) lit, a running sum that ends at the gradient, the direct derivative, and
backprop's δ's one per overlay; --top K closes with the rest summed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from exporthelp import need, oracle_paths

import pathgrad
from pathgrad.analyses.backprop import backprop
from pathgrad.analyses.explanation import explain
from pathgrad.render import beamer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _deck(name: str, weight: str, top: int | None = None) -> tuple[str, object, object]:
    spec = pathgrad.load(EXAMPLES / f"{name}.yaml")
    ex = explain(spec, weight)
    bp = backprop(spec, weight)
    return beamer.render(ex, bp, top), ex, bp


def _overlay(tex: str, k: int) -> str:
    """The text of \\only<k>{…} in the paths frame (balanced braces)."""
    start = tex.index("\\only<%d>{\n" % k, tex.index("\\frametitle<1>"))
    depth, i = 0, start + len("\\only<%d>" % k)
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return tex[i:j]
    raise AssertionError("unbalanced")


def test_each_path_overlay_lights_exactly_that_path():
    tex, ex, _ = _deck("question", "w11")
    spec = pathgrad.load(EXAMPLES / "question.yaml")
    paths = oracle_paths(spec, "w11")
    assert len(ex.paths) == len(paths) == 2
    for k, p in enumerate(ex.paths, 1):
        part = _overlay(tex, k)
        assert part.count(r"\draw[litedge]") == len(p.nodes) - 1
        # the chain in Leibniz notation, loss side first, and the path's value in bold
        assert r"\frac{\partial E}{\partial \mathrm{Out}}" in part
        assert re.search(r"\\mathbf\{-0\.00\d+\}", part)
    assert tuple(ex.paths[0].nodes) in {tuple(p) for p in paths}


def test_running_sum_ends_at_the_gradient_and_the_sum_frame_has_the_direct_derivative():
    tex, ex, _ = _deck("question", "w11")
    sums = re.findall(r"Running sum \((\d) of 2 paths?\): \$\\mathbf\{([-\d.]+)\}\$", tex)
    assert [k for k, _ in sums] == ["1", "2"]
    values = [p.value for p in ex.paths]
    assert float(sums[0][1]) == pytest.approx(values[0], rel=1e-3)
    assert float(sums[1][1]) == pytest.approx(sum(values), rel=1e-3)
    assert "sympy differentiates the composed" in tex
    assert "The sum over paths is the derivative" in tex


def test_backprop_frames_give_one_delta_per_overlay_ending_at_the_gradient():
    tex, ex, bp = _deck("question", "w11")
    deltas = re.findall(r"\\uncover<(\d+)->\{\\delta_\{([^}]*(?:\}[^}]*)?)\}", tex)
    assert len(deltas) == len(bp.steps)
    last = bp.steps[-1]
    assert last.node == "w11" and last.value == pytest.approx(ex.value, rel=1e-12)
    assert f"each edge used once --- {bp.multiplications:,} multiplications" in tex


def test_top_k_closes_with_the_rest_summed():
    tex, ex, _ = _deck("residual", "x", top=3)
    assert len(ex.paths) == 8
    assert tex.count(r"\frametitle<") == 4  # 3 paths, then the rest
    top = sorted(ex.paths, key=lambda p: -abs(p.value))[:3]
    rest = ex.value - sum(p.value for p in top)
    m = re.search(r"The other 5 paths add up to \$([-\d.]+)\$", tex)
    assert m and float(m.group(1)) == pytest.approx(rest, rel=1e-3)
    assert "(the largest)" in tex and "(the 3rd largest)" in tex


@pytest.mark.parametrize(("name", "weight", "top"), [("question", "w11", None),
                                                     ("residual", "x", 3),
                                                     ("olah", "b", None),
                                                     ("mazur", "w1_1_1", None)])
def test_the_deck_compiles_and_has_one_page_per_overlay(tmp_path, name, weight, top):
    pdflatex = need("pdflatex")
    tex, ex, bp = _deck(name, weight, top)
    (tmp_path / "deck.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode",
                           "-no-shell-escape", "deck.tex"], cwd=tmp_path, capture_output=True,
                          timeout=180)
    log = (tmp_path / "deck.log").read_text(encoding="latin-1")
    assert done.returncode == 0, [ln for ln in log.splitlines() if ln.startswith("!")]
    pages = int(re.search(r"Output written on deck\.pdf \((\d+) pages?", log).group(1))
    shown = min(top or len(ex.paths), len(ex.paths))
    closing = 1 if shown < len(ex.paths) else 0
    # title, network ×2, one per path (+ the rest), sum ×3, one per δ + the closing line
    assert pages == 1 + 2 + shown + closing + 3 + len(bp.steps) + 1
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt", log)]
    assert all(x <= 1.0 for x in overfull), overfull


def test_cli_writes_tex_and_pdf(run, tmp_path):
    need("pdflatex")
    q = str(EXAMPLES / "question.yaml")
    result = run("explain", q, "-w", "w11", "--format", "beamer", "-o", str(tmp_path / "t.tex"))
    assert result.exit_code == 0
    assert (tmp_path / "t.tex").read_text().startswith("\\documentclass[aspectratio=169")
    result = run("explain", q, "-w", "w11", "--format", "beamer", "-o", str(tmp_path / "t.pdf"))
    assert result.exit_code == 0 and (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    result = run("explain", q, "-w", "w11", "--format", "beamer", "--top", "1")
    assert result.exit_code == 0 and "The other 1 paths" in result.stdout


def test_the_numbers_on_the_slides_are_explains(run):
    q = str(EXAMPLES / "question.yaml")
    data = json.loads(run("explain", q, "-w", "w11", "--format", "json").stdout)
    tex = run("explain", q, "-w", "w11", "--format", "beamer").stdout
    for p in data["paths"]:
        assert f"{p['value']:.4g}" in tex
    from test_check import H  # the question's local partials worked out by hand

    for factors in (H["f1"], H["f2"]):  # each path's numbers, loss side first
        shown = [f"({x:.4g})" if x < 0 else f"{x:.4g}" for x in reversed(factors)]
        assert " \\cdot ".join(shown) in tex


def test_hostile_spec_text_is_escaped_and_the_deck_still_compiles(tmp_path):
    import dataclasses

    pdflatex = need("pdflatex")
    spec = pathgrad.load(EXAMPLES / "question.yaml")
    odd = "".join(map(chr, range(32, 127))) + " —→∂σ é 日本"
    spec = dataclasses.replace(spec, name=odd, description=odd[::-1])
    ex = explain(spec, "w11")
    tex = beamer.render(ex, backprop(spec, "w11"))
    assert "\\input" not in tex.split("\\begin{document}")[1].replace("\\input{", "")
    (tmp_path / "deck.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run([pdflatex, "-halt-on-error", "-interaction=nonstopmode",
                           "-no-shell-escape", "deck.tex"], cwd=tmp_path, capture_output=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout[-2000:]
