"""Helpers for the export, drawing and browser tests: which weight each example is about,
oracles that do not use pathgrad's graph code, and external tools that CI must have."""

from __future__ import annotations

import os
import re
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
_NAME = re.compile(r"[^\W\d]\w*")


def example_weight(path: Path) -> str:
    """The weight an example is about: `# weight: NAME` in its header comments, else the
    first `--weight NAME` there (its "Try:" line), else its first param."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    m = re.search(r"^#\s*weight:\s*(\w+)", text, re.M) or re.search(r"--weight\s+(\w+)", text)
    if m:
        return m.group(1)
    import pathgrad

    return next(iter(pathgrad.load(path).params))


def oracle_edges(spec) -> set[tuple[str, str]]:
    """u → v whenever v's expression text mentions u: read off the canonical text with a
    regex, independent of pathgrad.graph."""
    names = set(spec.names)
    return {(u, v) for v in spec.nodes for u in _NAME.findall(spec.text(v)) if u in names}


def oracle_paths(spec, weight: str) -> list[tuple[str, ...]]:
    """Every path weight → loss by brute-force depth-first search over `oracle_edges`."""
    succ: dict[str, list[str]] = {}
    for u, v in oracle_edges(spec):
        succ.setdefault(u, []).append(v)
    out: list[tuple[str, ...]] = []

    def walk(path: list[str]) -> None:
        if path[-1] == spec.loss:
            out.append(tuple(path))
            return
        for nxt in succ.get(path[-1], []):
            walk([*path, nxt])

    walk([weight])
    return out


def path_edge_set(paths) -> set[tuple[str, str]]:
    return {e for p in paths for e in pairwise(p)}


def need(*names: str) -> str:
    """The path of an external tool; skipped when missing locally, a failure under CI."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    reason = f"{names[0]} is not installed (CI installs it: see .ci/run)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI is set, so this test may not be skipped")
    pytest.skip(reason)
    raise AssertionError  # unreachable: pytest.skip raises


def chromium_args(profile: Path) -> list[str]:
    """Headless chromium that touches no network and no user profile."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}"]
