"""`pathgrad gradient` in Python and Jupyter: the record plus its renderings and hooks
(`matrix_notebook.Rendered`: to_text, to_json, _repr_html_, _repr_latex_, _repr_markdown_).

>>> view = gradient("examples/mazur.yaml", lr=0.5, update="w*")
>>> view
<Gradient of E for 10 params at E = 0.298371, verified (symengine); 1 step: E → 0.291028>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from ..analyses.gradient import Gradient
from ..analyses.gradient import gradient as _gradient
from ..spec import Spec, load
from . import formats
from .matrix_notebook import Rendered, view_of

__all__ = ["GradientView", "gradient", "wrap"]


@dataclass(frozen=True, repr=False, eq=False)
class GradientView(Rendered, Gradient):
    """Every param's ∂loss/∂p, verified, and the descent steps, with renderings."""

    def __repr__(self) -> str:
        state = f"verified ({self.method})" if self.verified else "NOT VERIFIED"
        n, k = len(self.gradient), len(self.steps)
        steps = (f"; {k} step{'s' * (k != 1)}: {self.loss} → "
                 f"{formats.number(self.steps[-1].loss_after)}" if k else "")
        return (f"<Gradient of {self.loss} for {n:,} params at {self.loss} = "
                f"{formats.number(self.value)}, {state}{steps}>")

    RENDERERS: ClassVar[dict[str, str]] = {
        "text": "gradient_table.gradient", "fragment": "gradient_html.fragment",
        "latex": "gradient_latex.render", "markdown": "gradient_markdown.render",
        "html": "gradient_html.render", "dict": "gradient_json.gradient"}


def wrap(gr: Gradient) -> GradientView:
    """The record `gr` with its renderings."""
    return view_of(GradientView, gr)


def gradient(spec: Spec | str, values: Mapping[str, object] | None = None, *,
             lr: float | Fraction | None = None, steps: int = 1,
             update: str | Sequence[str] | None = None) -> GradientView:
    """`analyses.gradient.gradient` of a spec (or a path or YAML text), with renderings."""
    s = spec if isinstance(spec, Spec) else load(spec)
    return wrap(_gradient(s, values, lr=lr, steps=steps, update=update))
