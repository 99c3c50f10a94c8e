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
from typing import Any

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

    def _rich(self) -> Any:
        from . import gradient_table

        return gradient_table.gradient(self)

    def _fragment(self) -> str:
        from . import gradient_html

        return gradient_html.fragment(self)

    def to_latex(self, *, fragment: bool = False) -> str:
        from . import gradient_latex

        return gradient_latex.render(self, fragment=fragment)

    def to_markdown(self) -> str:
        from . import gradient_markdown

        return gradient_markdown.render(self)

    def to_html(self) -> str:
        from . import gradient_html

        return gradient_html.render(self)

    def to_dict(self) -> dict[str, Any]:
        from . import gradient_json

        return gradient_json.gradient(self)


def wrap(gr: Gradient) -> GradientView:
    """The record `gr` with its renderings."""
    return view_of(GradientView, gr)


def gradient(spec: Spec | str, values: Mapping[str, object] | None = None, *,
             lr: float | Fraction | None = None, steps: int = 1,
             update: str | Sequence[str] | None = None) -> GradientView:
    """`analyses.gradient.gradient` of a spec (or a path or YAML text), with renderings."""
    s = spec if isinstance(spec, Spec) else load(spec)
    return wrap(_gradient(s, values, lr=lr, steps=steps, update=update))
