"""The explanation people hold in Python and Jupyter: the analyses' record plus its renderings.

`analyses.explanation.Explanation` is a plain record and knows nothing of formats; this
subclass adds `to_text()`, `to_latex()`, `to_html()`, `to_markdown()`, `to_json()`,
`save(path)`, a one-line `repr`, and the Jupyter hooks, which call those.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analyses import explanation as _analysis
from ..errors import UsageError
from . import formats
from .formats import Options

__all__ = ["Explanation", "wrap", "SAVE_FORMATS"]

SAVE_FORMATS = {".txt": "text", ".json": "json", ".tex": "latex", ".pdf": "pdf",
                ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


@dataclass(frozen=True, repr=False, eq=False)
class Explanation(_analysis.Explanation):
    """∂loss/∂weight as a sum over paths, verified, with its renderings.

    >>> import pathgrad
    >>> ex = pathgrad.explain("inputs: {x: 2}\\nparams: {w: 3}\\nnodes: {h: w*x, E: h^2}", "w")
    >>> ex
    <Explanation ∂E/∂w: 1 path, value 24, verified (exact)>
    >>> print(ex.to_text(width=100).splitlines()[3])
    1   w → h → E   ∂E/∂h · ∂h/∂w             2·h · x             24   +100.0%
    """

    def __repr__(self) -> str:
        n = self.path_count
        state = f"verified ({self.verification.method})" if self.verified else "NOT VERIFIED"
        return (f"<Explanation ∂{self.loss}/∂{self.weight}: {n:,} path{'s' if n != 1 else ''}"
                f", value {formats.number(self.value)}, {state}>")

    def to_text(self, width: int = 100, *, digits: int = formats.DEFAULT_DIGITS,
                numbers: bool = False) -> str:
        """The terminal table as plain text, `width` columns wide."""
        from rich.console import Console

        from . import table

        console = Console(record=True, width=width, color_system=None,
                          file=open(os.devnull, "w"), highlight=False)  # noqa: SIM115
        console.print(table.explanation(self, Options(digits, numbers)))
        return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"

    def to_latex(self, *, fragment: bool = False, digits: int = formats.DEFAULT_DIGITS) -> str:
        """A standalone LaTeX document (or, `fragment`, only its align* blocks)."""
        from . import latex

        return latex.render(self, fragment=fragment, options=Options(digits))

    def to_html(self, *, digits: int = formats.DEFAULT_DIGITS, numbers: bool = False) -> str:
        """One self-contained HTML page (MathML and an inline SVG of the network)."""
        from . import html

        return html.render(self, options=Options(digits, numbers))

    def to_markdown(self, *, digits: int = formats.DEFAULT_DIGITS) -> str:
        """GitHub-flavoured Markdown: the table, the values, a Mermaid graph, the maths."""
        from . import markdown

        return markdown.render(self, options=Options(digits))

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract as a dict (see the README's JSON section)."""
        from ..analyses.lengths import path_lengths
        from . import jsonout

        return jsonout.explanation(self, path_lengths(self.spec, self.weight, self.values))

    def to_json(self) -> str:
        """The JSON contract as text."""
        from . import jsonout

        return jsonout.dumps(self.to_dict())

    def to_pdf(self) -> bytes:
        """The LaTeX document compiled with pdflatex (UsageError when it is not installed)."""
        from .pdf import compile_pdf

        return compile_pdf(self.to_latex())

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the format the extension names (.txt .json .tex .pdf .md .html) to `path`,
        atomically; returns the path."""
        from ..output import write_file

        target = Path(path)
        fmt = SAVE_FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise UsageError(f"cannot tell the format of '{target}' from its extension",
                             None, "use one of " + ", ".join(SAVE_FORMATS))
        data: str | bytes = {"text": self.to_text, "json": self.to_json,
                             "latex": self.to_latex, "markdown": self.to_markdown,
                             "html": self.to_html, "pdf": self.to_pdf}[fmt]()
        write_file(str(target), data, str(self.spec.source) if self.spec.source else None)
        return target

    # Jupyter shows the first of these it can
    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        return self.to_latex(fragment=True)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def wrap(ex: _analysis.Explanation) -> Explanation:
    """The record `ex` with its renderings."""
    if isinstance(ex, Explanation):
        return ex
    return Explanation(**{f.name: getattr(ex, f.name) for f in dataclasses.fields(ex)})
