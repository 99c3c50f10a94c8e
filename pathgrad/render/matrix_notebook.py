"""`pathgrad matrix` in Python and Jupyter: the analysis record plus its renderings.

`analyses.matrix.MatrixForm` is a plain record; `MatrixView` adds `to_text()`, `to_latex()`,
`to_markdown()`, `to_html()`, `to_json()` and the Jupyter hooks, which call those.

>>> view = matrix("examples/mazur.yaml", weight="w1_1_1")
>>> view
<MatrixForm examples/mazur.yaml: 2 layers, ∂E/∂w1_1_1 = 0.000438568 (2 paths), verified (exact)>
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..analyses.matrix import MatrixForm, matrix_form
from ..spec import Spec, load
from . import formats

__all__ = ["MatrixView", "matrix", "wrap"]


@dataclass(frozen=True, repr=False, eq=False)
class MatrixView(MatrixForm):
    """BP1–BP4 of an mlp, checked, with its renderings."""

    def __repr__(self) -> str:
        state = f"verified ({self.method})" if self.verified else "NOT VERIFIED"
        br = self.bridge
        about = (f", ∂{self.loss}/∂{br.param} = {formats.number(br.value)} "
                 f"({br.path_count:,} path{'s' * (br.path_count != 1)})" if br else "")
        return (f"<MatrixForm {self.spec.source}: {len(self.layers)} layer"
                f"{'s' * (len(self.layers) != 1)}{about}, {state}>")

    def to_text(self, width: int = 100) -> str:
        """The terminal output as plain text, `width` columns wide."""
        from rich.console import Console

        from . import matrix_table

        console = Console(record=True, width=width, color_system=None,
                          file=open(os.devnull, "w"), highlight=False)  # noqa: SIM115
        console.print(matrix_table.matrix(self))
        return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"

    def to_latex(self, *, fragment: bool = False) -> str:
        from . import matrix_latex

        return matrix_latex.render(self, fragment=fragment)

    def to_markdown(self) -> str:
        from . import matrix_markdown

        return matrix_markdown.render(self)

    def to_html(self) -> str:
        from . import matrix_html

        return matrix_html.render(self)

    def to_dict(self) -> dict[str, Any]:
        from . import matrix_json

        return matrix_json.matrix(self)

    def to_json(self) -> str:
        from . import jsonout

        return jsonout.dumps(self.to_dict())

    def _repr_html_(self) -> str:
        from . import matrix_html

        return matrix_html.fragment(self)

    def _repr_latex_(self) -> str:
        return self.to_latex(fragment=True)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def wrap(mf: MatrixForm) -> MatrixView:
    """The record `mf` with its renderings."""
    if isinstance(mf, MatrixView):
        return mf
    return MatrixView(**{f.name: getattr(mf, f.name) for f in dataclasses.fields(mf)})


def matrix(spec: Spec | str, weight: str | None = None,
           values: Mapping[str, object] | None = None) -> MatrixView:
    """`analyses.matrix.matrix_form` of a spec (or a path or YAML text), with renderings."""
    s = spec if isinstance(spec, Spec) else load(spec)
    return wrap(matrix_form(s, values, weight=weight))
