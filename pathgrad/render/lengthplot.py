"""`pathgrad lengths`: where a network's gradient travels, as a line plot (SVG or PNG, drawn
with matplotlib like `pathgrad graph`'s PNG: its wheels carry their own fonts and rasterizer).

Three pictures, one line per network (or per network and route):

- by length: x = path length in edges, y = the share of |gradient| that length carries,
  |Σ paths of that length| / Σ over lengths of |Σ paths of that length| (so the shares of one
  line add up to 100 % even where paths of different lengths cancel);
- by route: grouped bars, one colour per network, over the routes as cells share them: a
  state carried on unsquashed only (LSTM c, GRU h → h), through the gates only (h → gates: all
  an rnn has), mixed, or no step crossed; y likewise per route;
- by steps (`--steps`): x = T, the number of steps unrolled, y = each route's share of
  |gradient| (or, with `magnitude`, |Σ paths of that route| on a log axis), one line per
  network and route: the cell-state route keeps its share as T grows, the h route fades.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from ..analyses.lengths import LengthDistribution
from ..analyses.routes import RouteDistribution

__all__ = ["Line", "Plot", "by_length", "by_route", "by_steps", "render", "role_class",
           "MEASURES", "ROLE_CLASSES"]

MEASURES = ("share", "magnitude")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
_DASHES = ("-", "--", "-.", ":")  # by route: carried on only, gates only, mixed, none


@dataclass(frozen=True)
class Line:
    """One line: its label, x positions and y values (None: no point there)."""

    label: str
    xs: tuple[float, ...]
    ys: tuple[float | None, ...]
    colour: int = 0  # index into the palette: one colour per network
    dash: int = 0  # one dash per route


@dataclass(frozen=True)
class Plot:
    """What to draw: lines, axis titles, and the category names of a categorical x axis."""

    title: str
    xlabel: str
    ylabel: str
    lines: tuple[Line, ...]
    categories: tuple[str, ...] = ()
    log: bool = False
    bars: bool = False  # grouped bars (categories), not lines


def _shares(values: Sequence[float | None]) -> list[float | None]:
    """|v| / Σ|v|: shares of the absolute gradient (None where a value is missing)."""
    known = [abs(v) for v in values if v is not None]
    total = sum(known)
    return [None if v is None or not total else abs(v) / total for v in values]


def _tex_safe(text: str) -> str:
    """Label text as matplotlib shows it literally ('$' would start mathtext)."""
    return text.replace("\\", "\\\\").replace("$", r"\$")


def by_length(dists: Sequence[tuple[str, LengthDistribution]]) -> Plot:
    """Share of |∂E/∂w| by path length, one line per network."""
    lines = []
    for i, (name, d) in enumerate(dists):
        ys = _shares([b.value for b in d.bins])
        lines.append(Line(_tex_safe(f"{name}: ∂{d.target}/∂{d.source}"),
                          tuple(float(b.length) for b in d.bins), tuple(ys), i))
    return Plot("share of |gradient| by path length", "path length (edges)",
                "share of |gradient|", tuple(lines))


ROLE_CLASSES = ("carry only", "gates only", "mixed", "no step crossed")
_ROLE_TICKS = ("state carried on\n(LSTM c, GRU h→h) only", "through the gates\n(h → gates) only",
               "mixed", "no step\ncrossed")


def role_class(route: str, roles: dict[str, str]) -> str:
    """A route ("c", "h", "c+h", "none") as a class comparable across cells: the state carried
    on unsquashed only, through the gates only, mixed, or no step crossed."""
    if route == "none":
        return "no step crossed"
    kinds = {roles.get(label, "gates") for label in route.split("+")}
    return "mixed" if len(kinds) > 1 else f"{kinds.pop()} only"


def by_route(dists: Sequence[tuple[str, RouteDistribution]]) -> Plot:
    """Share of |∂E/∂w| by route, one bar series per network: the routes of an LSTM, a GRU and
    an rnn put side by side by what their edges do (carry a state on, or go through gates)."""
    lines = []
    for i, (name, d) in enumerate(dists):
        roles = dict(d.roles)
        by: dict[str, float] = {}
        for c in d.classes:
            key = role_class(c.route, roles)
            by[key] = by.get(key, 0.0) + (c.value or 0.0)
        shares = _shares([by.get(k, 0.0) for k in ROLE_CLASSES])
        lines.append(Line(_tex_safe(f"{name}: ∂{d.target}/∂{d.source}"),
                          tuple(float(k) for k in range(len(ROLE_CLASSES))), tuple(shares), i))
    return Plot("share of |gradient| by route between steps", "route", "share of |gradient|",
                tuple(lines), _ROLE_TICKS, bars=True)


def by_steps(sweeps: Sequence[tuple[str, Sequence[tuple[int, RouteDistribution]]]],
             measure: str = "share") -> Plot:
    """Each route's share of |∂E/∂w| (or its |value|) against the steps unrolled, one line
    per network and route."""
    lines = []
    for i, (name, sweep) in enumerate(sweeps):
        routes: list[str] = []
        for _, d in sweep:
            for c in d.classes:
                if c.title not in routes:
                    routes.append(c.title)
        rows = []
        for _, d in sweep:
            by = {c.title: c.value for c in d.classes}
            if measure == "share":
                rows.append(dict(zip(routes, _shares([by.get(r, 0.0) for r in routes]))))
            else:
                rows.append({r: abs(v) if v else None for r, v in by.items()})
        source = sweep[0][1].source if sweep else "w"
        roles = dict(sweep[-1][1].roles) if sweep else {}
        keys = {c.title: c.route for _, d in sweep for c in d.classes}
        for route in routes:
            ys = tuple(row.get(route) for row in rows)
            dash = ROLE_CLASSES.index(role_class(keys[route], roles))  # one dash per role
            lines.append(Line(_tex_safe(f"{name}: {route} (∂E/∂{source})"),
                              tuple(float(t) for t, _ in sweep), ys, i, dash))
    ylabel = "share of |gradient|" if measure == "share" else "|gradient carried|"
    return Plot(f"{ylabel} by route as the unroll grows", "steps unrolled (T)", ylabel,
                tuple(lines), log=measure == "magnitude")


def render(plot: Plot, fmt: str) -> bytes | str:
    """The plot as PNG bytes or SVG text (deterministic: no date, fixed ids)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    with matplotlib.rc_context({"svg.hashsalt": "pathgrad", "svg.fonttype": "path",
                                "font.size": 10}):
        fig = Figure(figsize=(9.0, 4.2), dpi=110, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        width = 0.8 / max(len(plot.lines), 1)
        for k, line in enumerate(plot.lines if plot.bars else ()):
            offset = (k - (len(plot.lines) - 1) / 2) * width
            ax.bar([x + offset for x in line.xs], [y or 0.0 for y in line.ys], width * 0.92,
                   color=_COLOURS[line.colour % len(_COLOURS)], label=line.label)
        for line in () if plot.bars else plot.lines:
            xs = [x for x, y in zip(line.xs, line.ys) if y is not None]
            ys = [y for y in line.ys if y is not None]
            if plot.log:
                xs, ys = zip(*[(x, y) for x, y in zip(xs, ys) if y > 0]) if any(
                    y > 0 for y in ys) else ((), ())
            ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.6,
                    color=_COLOURS[line.colour % len(_COLOURS)],
                    linestyle=_DASHES[line.dash % len(_DASHES)], label=line.label)
        if plot.log:
            ax.set_yscale("log")
        else:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_ylim(-0.02, 1.02)
        if plot.categories:
            ax.set_xticks(range(len(plot.categories)), plot.categories)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(plot.title, fontsize=11)
        ax.set_xlabel(plot.xlabel)
        ax.set_ylabel(plot.ylabel)
        ax.grid(True, color="#e5e5e5", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        if plot.lines:
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.tight_layout()
        buf = io.BytesIO()
        if fmt == "png":
            fig.savefig(buf, format="png", metadata={"Software": None})
            return buf.getvalue()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue().decode("utf-8")
