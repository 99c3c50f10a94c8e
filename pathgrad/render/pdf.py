"""`-o FILE.pdf`: the LaTeX document compiled with pdflatex, when it is installed.

pdflatex runs in a fresh temporary folder with shell escape off, so a document can neither
run programs nor leave files behind; its log is read for the first error when it fails.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import UsageError

__all__ = ["compile_pdf", "PDFLATEX_TIMEOUT"]

PDFLATEX_TIMEOUT = 300  # seconds; a 64-path handout takes about two


def compile_pdf(tex: str, pdflatex: str | None = None) -> bytes:
    """The PDF of a standalone LaTeX document (two pdflatex runs, for references)."""
    exe = pdflatex or shutil.which("pdflatex")
    if exe is None:
        raise UsageError("-o FILE.pdf needs pdflatex, which is not installed", None,
                         "install TeX Live (texlive-latex-base, -latex-recommended and "
                         "-pictures), or write -o FILE.tex and compile it elsewhere")
    with tempfile.TemporaryDirectory(prefix="pathgrad-pdf-") as folder:
        src = Path(folder) / "explain.tex"
        src.write_text(tex, encoding="utf-8")
        for _ in range(2):
            try:
                done = subprocess.run(
                    [exe, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
                     "explain.tex"], cwd=folder, capture_output=True, timeout=PDFLATEX_TIMEOUT,
                    stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise UsageError(f"pdflatex took over {PDFLATEX_TIMEOUT} s", None,
                                 "write -o FILE.tex, or use --top K for a shorter handout"
                                 ) from None
            if done.returncode != 0:
                log = (Path(folder) / "explain.log")
                text = log.read_text(encoding="latin-1") if log.exists() else ""
                first = next((line for line in text.splitlines() if line.startswith("!")),
                             f"exit status {done.returncode}")
                raise UsageError(f"pdflatex could not compile the document: {first[:200]}",
                                 None, "write -o FILE.tex to see the LaTeX")
        return (Path(folder) / "explain.pdf").read_bytes()
