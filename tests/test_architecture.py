"""The layout's promises: imports go downwards only (import-linter's contracts in
pyproject.toml), `import pathgrad` and `pathgrad --help` stay light, and `pathgrad show` loads
no sympy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.fail("lint-imports is missing: pip install -e '.[test]'")
    proc = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "broken" not in proc.stdout.split("Contracts:")[-1].lower().replace("0 broken", "")


def _modules_after(code: str) -> set[str]:
    """The modules loaded by a fresh interpreter after running `code`."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


HEAVY = ("sympy", "mpmath", "networkx", "matplotlib", "rich", "yaml", "symengine")


def test_import_pathgrad_loads_nothing_heavy():
    loaded = _modules_after("import pathgrad")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_help_loads_no_sympy():
    loaded = _modules_after(
        "import sys\nsys.argv = ['pathgrad', '--help']\nfrom pathgrad.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")
    assert "sympy" not in loaded and "networkx" not in loaded


@pytest.mark.parametrize("args", [["show", "examples/question.yaml"],
                                  ["show", "examples/mazur.yaml", "--format", "json"],
                                  ["expand", "examples/rnn.yaml"]])
def test_show_and_expand_load_no_sympy(args):
    loaded = _modules_after(
        f"import sys\nsys.argv = ['pathgrad', *{args!r}]\nfrom pathgrad.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass")
    assert "pathgrad.spec.check" in loaded  # the command did run
    assert "sympy" not in loaded, sorted(m for m in loaded if m.startswith("pathgrad"))
