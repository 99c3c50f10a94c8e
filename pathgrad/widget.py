"""The interactive page as a Jupyter widget (anywidget: Jupyter, VS Code, marimo).

`pathgrad.widget(spec, weight)` shows the same page `pathgrad page` writes — the same
interactive.js, the same JavaScript generated from sympy — with the values two-way synced:
move a slider and `w.values` changes in Python; assign `w.values = {"x1": 0.3}` and the page
follows. `w.explanation` is pathgrad's own `explain` at the current values (the proof
included); `w.result` holds the numbers the page computed (gradient, paths, node values).

Needs the notebook extra: `pip install 'pathgrad[notebook]'`. `import pathgrad` never loads
this module (nor anywidget) until `pathgrad.widget` is used.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .analyses.explanation import Explanation
    from .spec import Spec

__all__ = ["widget", "esm"]  # and PathgradWidget, built on first use (module __getattr__)


def esm(model: str) -> str:
    """The widget's ES module: the page's script, the generated model, and a render()
    that mounts the page in the widget's element and syncs `values` and `result`."""
    from .render.interactive import script

    return "\n".join([
        script(),
        f"const pathgradModel = {model};",
        _RENDER,
    ])


_RENDER = """
function render({ model, el }) {
  // the markup is pathgrad's (spec text in it is HTML-escaped); data is JSON, read as such
  el.innerHTML = model.get("html");
  const root = el.querySelector(".pg-live");
  const data = JSON.parse(model.get("data"));
  let quiet = false;
  const publish = (page) => {
    model.set("result", page.result());
    model.save_changes();
  };
  const page = PathgradLive.mount(root, data, pathgradModel, {
    keysOnRootOnly: true,
    onValues: (vals) => {
      quiet = true;
      model.set("values", vals);
      quiet = false;
      publish(page);
    },
  });
  page.setValues(model.get("values") || {});
  publish(page);
  const follow = () => {
    if (quiet) { return; }
    page.setValues(model.get("values") || {});
    publish(page);
  };
  model.on("change:values", follow);
  return () => model.off("change:values", follow);
}
export default { render };
"""


def _widget_class() -> type:
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise UsageError("pathgrad.widget needs anywidget",
                         suggestion="pip install 'pathgrad[notebook]'") from None

    class PathgradWidget(anywidget.AnyWidget):  # type: ignore[misc, name-defined]
        """The live page in a notebook; `values` is synced both ways."""

        _esm = traitlets.Unicode("").tag(sync=True)
        _css = traitlets.Unicode("").tag(sync=True)
        html = traitlets.Unicode("").tag(sync=True)
        data = traitlets.Unicode("{}").tag(sync=True)
        values = traitlets.Dict().tag(sync=True)
        result = traitlets.Dict().tag(sync=True)

        def __init__(self, spec: Spec, weight: str, values: Mapping[str, object] | None = None,
                     **kwargs: Any) -> None:
            from .render.interactive import build, style
            from .spec.model import apply_values

            point = apply_values(spec, values)
            live = build(spec, weight, point)
            self._spec, self._weight = spec, weight
            self._cache: tuple[tuple, Explanation] | None = None
            super().__init__(
                _esm=esm(live.model), _css=style(), html=live.html,
                data=json.dumps(live.data, allow_nan=False),
                values={k: None if v is None else float(v) for k, v in point.items()},
                **kwargs)

        @traitlets.validate("values")
        def _check_values(self, proposal: Any) -> dict[str, float | None]:
            from .spec.model import apply_values

            new = {**(self.values or {}), **proposal["value"]}
            point = apply_values(self._spec, {k: v for k, v in new.items()})
            return {k: None if v is None else float(v) for k, v in point.items()}

        @property
        def spec(self) -> Spec:
            return self._spec

        @property
        def weight(self) -> str:
            return self._weight

        @property
        def explanation(self) -> Explanation:
            """pathgrad's `explain` at the values the page shows now (computed once per
            set of values)."""
            from .analyses.explanation import explain

            key = tuple(sorted(self.values.items()))
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, explain(self._spec, self._weight, self.values))
            return self._cache[1]

    PathgradWidget.__qualname__ = "PathgradWidget"  # built in a function, named as if not
    return PathgradWidget


_CLASS: type | None = None


def __getattr__(name: str) -> Any:
    if name == "PathgradWidget":  # built on first use: anywidget is an optional extra
        global _CLASS
        if _CLASS is None:
            _CLASS = _widget_class()
        return _CLASS
    raise AttributeError(name)


def widget(spec: Spec | str | Path, weight: str | None = None,
           values: Mapping[str, object] | None = None) -> Any:
    """The live page for ∂loss/∂weight as a notebook widget (`spec`: a Spec, a path or YAML
    text; `weight`: default the first param the loss depends on)."""
    global _CLASS
    if not hasattr(spec, "graph"):
        from .spec import load

        spec = load(spec)  # type: ignore[arg-type]
    from .render.interactive import default_weight

    if _CLASS is None:
        _CLASS = _widget_class()
    return _CLASS(spec, weight or default_weight(spec), values)  # type: ignore[arg-type]


class _CallableModule(types.ModuleType):
    """`pathgrad.widget(...)` works even once the import system has bound the name
    `pathgrad.widget` to this module rather than to the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return widget(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
