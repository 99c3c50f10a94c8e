"""`pathgrad matrix` in Python and Jupyter: the analysis record plus its renderings.

`analyses.matrix.MatrixForm` (an mlp) and `analyses.matrix_bptt.BPTTForm` (an rnn) are plain
records; `MatrixView` and `BPTTView` add `to_text()`, `to_latex()`, `to_markdown()`,
`to_html()`, `to_json()` and the Jupyter hooks, which call those. `Rendered` is the part every
view shares (`gradient_notebook.GradientView` too).

>>> view = matrix("examples/mazur.yaml", weight="w1_1_1")
>>> view
<MatrixForm examples/mazur.yaml: 2 layers, ∂E/∂w1_1_1 = 0.000438568 (2 paths), verified (exact)>
>>> matrix("examples/rnn_width2.yaml")
<BPTTForm examples/rnn_width2.yaml: 3 steps, verified (modular)>
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ..analyses.matrix import MatrixForm
from ..analyses.matrix_bptt import BPTTForm, matrix_or_bptt
from ..spec import Spec, load
from . import formats

__all__ = ["MatrixView", "BPTTView", "Rendered", "matrix", "wrap", "view_of"]

R = TypeVar("R")


class Rendered:
    """The renderings every view shares, looked up in the view's `RENDERERS`: for each of
    "text" (a rich renderable), "fragment" (the HTML `<div>`), "latex", "markdown", "html"
    and "dict", the function "module.name" in pathgrad.render that makes it from the record
    (imported when first used, so a view costs nothing until it is shown)."""

    RENDERERS: ClassVar[dict[str, str]] = {}

    def rendering(self, what: str, **options: Any) -> Any:
        """The rendering `what` (a key of RENDERERS) of this record."""
        module, name = self.RENDERERS[what].split(".")
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(self, **options)

    def to_text(self, width: int = 100) -> str:
        """The terminal output as plain text, `width` columns wide."""
        from rich.console import Console

        with open(os.devnull, "w") as sink:
            console = Console(record=True, width=width, color_system=None, file=sink,
                              highlight=False)
            console.print(self.rendering("text"))
        return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"

    def to_latex(self, *, fragment: bool = False) -> str:
        """A standalone LaTeX document, or (`fragment`) only its body."""
        return self.rendering("latex", fragment=fragment)

    def to_markdown(self) -> str:
        return self.rendering("markdown")

    def to_html(self) -> str:
        """One self-contained page."""
        return self.rendering("html")

    def to_dict(self) -> dict[str, Any]:
        """The JSON output as Python data."""
        return self.rendering("dict")

    def to_json(self) -> str:
        from . import jsonout

        return jsonout.dumps(self.to_dict())

    # Jupyter shows the first of these it can
    def _repr_html_(self) -> str:
        return self.rendering("fragment")

    def _repr_latex_(self) -> str:
        return self.to_latex(fragment=True)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def view_of(cls: type[R], record: Any) -> R:
    """`record` (a dataclass) as its view class `cls`, field for field."""
    if isinstance(record, cls):
        return record
    return cls(**{f.name: getattr(record, f.name) for f in dataclasses.fields(record)})


def _state(record: Any) -> str:
    return f"verified ({record.method})" if record.verified else "NOT VERIFIED"


@dataclass(frozen=True, repr=False, eq=False)
class MatrixView(Rendered, MatrixForm):
    """BP1–BP4 of an mlp, checked, with its renderings."""

    def __repr__(self) -> str:
        br = self.bridge
        about = (f", ∂{self.loss}/∂{br.param} = {formats.number(br.value)} "
                 f"({br.path_count:,} path{'s' * (br.path_count != 1)})" if br else "")
        return (f"<MatrixForm {self.spec.source}: {len(self.layers)} layer"
                f"{'s' * (len(self.layers) != 1)}{about}, {_state(self)}>")

    RENDERERS: ClassVar[dict[str, str]] = {
        "text": "matrix_table.matrix", "fragment": "matrix_html.fragment",
        "latex": "matrix_latex.render", "markdown": "matrix_markdown.render",
        "html": "matrix_html.render", "dict": "matrix_json.matrix"}


@dataclass(frozen=True, repr=False, eq=False)
class BPTTView(Rendered, BPTTForm):
    """Backprop through time of an rnn in matrix form, checked, with its renderings."""

    def __repr__(self) -> str:
        about = (f", ∂{self.loss}/∂{self.weight} = {formats.number(self.weight_value)}"
                 if self.weight else "")
        return (f"<BPTTForm {self.spec.source}: {len(self.steps)} step"
                f"{'s' * (len(self.steps) != 1)}{about}, {_state(self)}>")

    RENDERERS: ClassVar[dict[str, str]] = {
        "text": "matrix_bptt.table", "fragment": "matrix_bptt_html.fragment",
        "latex": "matrix_bptt_latex.render", "markdown": "matrix_bptt_latex.markdown",
        "html": "matrix_bptt_html.render", "dict": "matrix_bptt.json_data"}


def wrap(mf: MatrixForm | BPTTForm) -> MatrixView | BPTTView:
    """The record `mf` with its renderings."""
    return view_of(BPTTView, mf) if isinstance(mf, BPTTForm) else view_of(MatrixView, mf)


def matrix(spec: Spec | str, weight: str | None = None,
           values: Mapping[str, object] | None = None) -> MatrixView | BPTTView:
    """The matrix form of a spec (or a path or YAML text) with renderings: BP1–BP4 for an
    mlp, backprop through time for an rnn (`analyses.matrix_bptt.matrix_or_bptt`)."""
    s = spec if isinstance(spec, Spec) else load(spec)
    return wrap(matrix_or_bptt(s, values, weight=weight))
