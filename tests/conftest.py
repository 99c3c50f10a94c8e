"""Shared fixtures: paths to the shipped examples and a helper to run the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# CI replays a fixed set of examples (a landing must not depend on luck); locally hypothesis
# explores new ones each run, which is how the abs(tanh(log w)) case was found
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def run():
    """Run the CLI in-process; returns the click Result (stdout and stderr kept apart)."""
    from pathgrad.cli import cli

    def _run(*args: str, env: dict | None = None):
        runner = CliRunner()
        return runner.invoke(cli, list(args), env={"COLUMNS": "200", **(env or {})},
                             catch_exceptions=False)

    return _run
