"""The HTML page in a real browser (headless chromium): it renders to a non-blank screenshot,
and its script lights exactly the edges of the path a row stands for."""

from __future__ import annotations

import re
import subprocess
from itertools import pairwise

import pytest
from exporthelp import chromium_args, need, oracle_paths

import pathgrad
from pathgrad.analyses.explanation import explain
from pathgrad.render import html


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from exporthelp import EXAMPLES

    spec = pathgrad.load(EXAMPLES / "question.yaml")
    ex = explain(spec, "w11")
    folder = tmp_path_factory.mktemp("browser")
    target = folder / "question.html"
    target.write_text(html.render(ex), encoding="utf-8")
    return target, ex


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    binary = need("chromium", "chromium-browser", "google-chrome")
    return subprocess.run([binary, *chromium_args(tmp_path / "profile"), *args],
                          capture_output=True, text=True, timeout=90)


def test_screenshot_of_the_page_is_not_blank(page, tmp_path):
    from PIL import Image

    target, _ = page
    shot = tmp_path / "shot.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900",
                       target.as_uri() + "#path=1")
    assert shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1200, 900)
        small = im.convert("RGB").resize((300, 225))
        data = small.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3]))
    assert len(set(pixels)) > 100  # text, math, boxes and edges, not a blank or error page
    assert sum(p != (255, 255, 255) for p in pixels) > 0.05 * len(pixels)
    assert any(r > 200 and 90 < g < 160 and b < 60 for r, g, b in pixels)  # the lit path


def test_a_row_lights_exactly_the_edges_of_its_path(page, tmp_path):
    target, ex = page
    for index in (2,):  # path 2: the page does not light it by itself
        result = _chromium(tmp_path, "--dump-dom", target.as_uri() + f"#path={index}")
        dom = result.stdout
        assert "</html>" in dom, result.stderr[-2000:]
        on = set()  # edges whose class list has "on" (lit by the hash), in any attribute order
        for tag in re.findall(r"<path [^>]*>", dom):
            classes = re.search(r'class="([^"]*)"', tag)
            if classes and "edge" in classes[1].split() and "on" in classes[1].split():
                on.add((re.search(r'data-u="(\w+)"', tag)[1],
                        re.search(r'data-v="(\w+)"', tag)[1]))
        rows = re.findall(r'<tr class="path( on)?" data-index="(\d+)"', dom)
        assert [i for flag, i in rows if flag] == [str(index)]
        # the lit edges form one of the brute-force paths: the one this row lists
        wanted = ex.paths[index - 1].nodes
        assert wanted in oracle_paths(ex.spec, "w11")
        assert on == set(pairwise(wanted))
