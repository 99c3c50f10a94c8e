"""The command line: a thin click layer over the library.

Library errors become one `Error: …` line on stderr and exit status 2; a failed verification
is exit status 1. Heavy modules (sympy, networkx, rich) load inside the commands, so
`pathgrad --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import PathgradError

__all__ = ["main", "cli"]


class Failure(click.ClickException):
    """A library error shown as one line (plus a caret line for syntax errors), exit 2."""

    exit_code = 2

    def __init__(self, error: PathgradError) -> None:
        super().__init__(error.line())
        self.detail = error.detail()

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)
        for line in self.detail:
            click.echo(line, err=True)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn pathgrad's own errors into a one-line click error."""
    try:
        yield
    except PathgradError as exc:
        raise Failure(exc) from None
    except RecursionError:  # sympy recurses on deep expressions: a limit, so status 2
        from .errors import LimitError

        raise Failure(LimitError(
            "the network is nested too deeply for sympy to differentiate (Python's recursion "
            "limit)", None, "choose a --weight nearer the loss, or a shallower network")
        ) from None
    except MemoryError:
        from .errors import LimitError

        raise Failure(LimitError("out of memory: the network is too large to explain", None,
                                 "choose a --weight nearer the loss, or a smaller network")
                      ) from None


def _values(pairs: tuple[str, ...]) -> dict[str, Any]:
    from .errors import UsageError
    from .spec import parse_value

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise UsageError(f"--set '{pair}' must look like NAME=VALUE", None,
                             "for example --set x1=0.5")
        if raw.lower() in ("null", "none", "~"):
            out[name] = None
            continue
        try:
            out[name] = parse_value(raw)
        except ValueError as exc:
            hint = "use a decimal like 0.5, -1.2e-3 or a fraction like 1/3" \
                if "too large" not in str(exc) else None
            raise UsageError(f"--set {name}: {exc}", None, hint) from None
    return out


_DIGITS = click.option(
    "--digits", type=click.IntRange(1, 17), default=6, show_default=True, metavar="N",
    help="Significant digits of every number shown (the same in every format).")


def _finite_seconds(value: float | None) -> float | None:
    """--verify-timeout: a number of seconds (nan and inf are not)."""
    if value is not None and (value != value or value == float("inf")):
        raise click.BadParameter(f"{value} is not a number of seconds; for example 30")
    return value


def _write(path: str, text: str | bytes, spec_path: str | None) -> None:
    """Write `text` (or bytes) to `path` atomically, or to standard output for `-o -`."""
    if path == "-":
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            click.echo(text, nl=False)
        return
    from .output import write_file

    write_file(path, text, spec_path)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _emit(render: Callable[[], Any], output: str | None, spec_path: str) -> None:
    """Print a renderable or text, or write it to `output`."""
    result = render()
    if isinstance(result, str | bytes):
        if output:
            _write(output, result, spec_path)
        else:
            click.echo(result, nl=False)
        return
    if output:
        from rich.console import Console

        console = Console(record=True, width=160, color_system=None, file=open(os.devnull, "w"))
        console.print(result)
        _write(output, console.export_text(), spec_path)
    else:
        _console().print(result)


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


class UsageFailure(click.ClickException):
    """click's own usage error (a missing --weight, an unknown option) as one line, exit 2."""

    exit_code = 2

    def __init__(self, error: click.UsageError) -> None:
        path = error.ctx.command_path if error.ctx is not None else "pathgrad"
        super().__init__(f"{error.format_message().rstrip('.')}; see '{path} --help'")

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class OneLineGroup(click.Group):
    """A group whose usage errors, its own and its commands', are one `Error:` line."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except _NO_ARGS_IS_HELP:
            raise  # a bare `pathgrad` shows the help, as click does
        except click.UsageError as exc:
            raise UsageFailure(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise UsageFailure(exc) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence, wrapped, instead of click's cut at the
        terminal's width with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pathgrad")
def cli() -> None:
    """Make the multivariable chain rule visible.

    ∂E/∂w is the sum over every path from w to E of the product of the local partials along
    the path. pathgrad lists those paths for a network you write down in YAML, and proves
    their sum equal to sympy's derivative of the composed loss.

    Example: pathgrad explain examples/question.yaml --weight w11
    """


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", required=True, help="The param, input or node to differentiate by.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override an input or param value (repeatable).")
@click.option("-f", "--format", "fmt", default=None,
              type=click.Choice(["table", "json", "latex", "markdown", "html", "beamer"]),
              help="Output format (default: table, or from -o's extension: .txt .json .tex "
                   ".md .html, and .pdf: the LaTeX compiled with pdflatex). beamer: slides "
                   "that step through the paths (-o talk.tex or talk.pdf; --top K).")
@click.option("--fragment", is_flag=True,
              help="With --format latex: only the math (align* blocks), no document around it.")
@click.option("--interactive", is_flag=True,
              help="With --format html: the live page (sliders, click a node to light its "
                   "paths, step through backprop); see `pathgrad page`.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
@click.option("--max-paths", type=click.IntRange(min=1), default=10_000, show_default=True,
              envvar="PATHGRAD_MAX_PATHS", show_envvar=True,
              help="Refuse to list more paths than this.")
@click.option("--top", "top", type=click.IntRange(min=1), default=None, metavar="K",
              help="Only the K paths with the largest |value|, found without listing the rest "
                   "(any number of paths); says what share of the gradient they carry.")
@click.option("--verify-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              callback=lambda ctx, param, value: _finite_seconds(value),
              metavar="SECONDS",
              help="Time for the direct derivative of the composed loss (symengine's; "
                   "sympy.diff's too on small nets); 0: none, the sum is checked by central "
                   "finite differences on the DAG instead.")
@_DIGITS
@click.option("--numbers", is_flag=True,
              help="Under each path, the value of each local partial in chain order and their "
                   "product, to follow a path by hand (LaTeX and Markdown always have them).")
def explain(spec: str, weight: str, sets: tuple[str, ...], fmt: str | None, fragment: bool,
            output: str | None, max_paths: int, top: int | None,
            verify_timeout: float, interactive: bool = False, digits: int = 6,
            numbers: bool = False) -> None:
    """Explain ∂loss/∂WEIGHT as a sum over every path from WEIGHT to the loss.

    Lists each path with its chain of local partials (loss side first), the value of each
    path at the spec's point and its share of the total, then the sum, sympy's direct
    derivative of the composed loss, and the verdict with the method that proved them equal.
    With --top K, lists only the K largest paths (of any number) and their share.

    Exit status: 0 verified, 1 the sum and the direct derivative differ, 2 bad input.

    LaTeX (a standalone document that compiles with pdflatex), Markdown (GitHub) and HTML (one
    self-contained page with MathML and the graph) are for handouts, notes and web pages.

    Example: pathgrad explain examples/question.yaml --weight w11 --set x1=0.5
    """
    with _errors():
        from .analyses.explanation import explain as run

        _not_the_spec(output, spec)
        fmt = fmt or _format_from(output, (*_TEXT_FORMATS, "pdf"))
        if fmt == "latex" and output and Path(output).suffix.lower() == ".pdf":
            fmt = "pdf"  # --format latex -o x.pdf: the compiled document
        if fragment and fmt != "latex":
            from .errors import UsageError

            raise UsageError("--fragment only applies to LaTeX output",
                             suggestion="add --format latex (or write to a .tex file)")
        if interactive and (fmt != "html" or top is not None):
            from .errors import UsageError

            raise UsageError("--interactive writes the live HTML page, not "
                             + ("--top" if top is not None else fmt),
                             suggestion="add --format html (or write to a .html file)")
        values = _values(sets)
        s = _load(spec)
        from .render.formats import Options

        opts = Options(digits=digits, numbers=numbers)
        if fmt == "beamer":
            _explain_beamer(s, weight, values, top, output, spec, max_paths, verify_timeout)
            return
        if top is not None:
            _explain_top(s, weight, values, top, fmt, output, spec, opts)
            return
        from .render.progressbar import reporter

        ex = run(s, weight, values, max_paths=max_paths, verify_timeout=verify_timeout,
                 progress=reporter())
        from .analyses.lengths import path_lengths

        lengths = path_lengths(s, weight, values)
        if fmt == "json":
            from .render import jsonout

            data = jsonout.explanation(ex, lengths, _route_dist(s, weight, values))
            _emit(lambda: jsonout.dumps(data), output, spec)
        elif fmt == "html" and interactive:
            from .render import interactive as live

            _emit(lambda: live.page(explanation=ex), output, spec)
        elif fmt in ("latex", "markdown", "html", "pdf"):
            _emit(lambda: _document(ex, fmt, fragment, opts), output, spec)
        elif len(lengths.bins) > 1:  # paths of several lengths: show how they spread
            from rich.console import Group
            from rich.text import Text

            from .render import lengths_table, table

            _emit(lambda: Group(table.explanation(ex, opts), Text(""),
                                lengths_table.path_lengths(lengths, digits),
                                *_route_parts(s, weight, values)), output, spec)
        else:
            from .render import table

            _emit(lambda: table.explanation(ex, opts), output, spec)
    _exit_for(ex.verification)


def _exit_for(verification: Any) -> None:
    """Exit status 1 when the sum over paths and the direct derivative differ; a loss that is
    undefined at every point (nothing to compare) is a warning, as its values are notes."""
    if verification.verified:
        return
    if verification.method == "none":
        click.echo(f"Warning: NOT VERIFIED: {verification.detail}", err=True)
        return
    click.echo(f"Error: NOT VERIFIED: {verification.detail}", err=True)
    sys.exit(1)


def _document(result: Any, fmt: str, fragment: bool, opts: Any) -> str | bytes:
    """LaTeX, Markdown, HTML or a compiled PDF of an explanation or of its top K paths."""
    from .render import html, latex, markdown

    if fmt in ("latex", "pdf"):
        tex = latex.render(result, fragment=fragment, options=opts)
        if fmt == "latex":
            return tex
        from .render.pdf import compile_pdf

        return compile_pdf(tex)
    return (html if fmt == "html" else markdown).render(result, options=opts)


def _explain_beamer(s: Any, weight: str, values: dict[str, Any], top: int | None,
                    output: str | None, spec: str, max_paths: int,
                    verify_timeout: float) -> None:
    """`explain --format beamer`: the deck as .tex (or compiled, for an -o ending in .pdf)."""
    from .analyses.backprop import backprop
    from .analyses.explanation import explain as run
    from .render import beamer
    from .render.progressbar import reporter

    ex = run(s, weight, values, max_paths=max_paths, verify_timeout=verify_timeout,
             progress=reporter())
    tex = beamer.render(ex, backprop(s, weight, values, max_listing=0), top)
    if output and Path(output).suffix.lower() == ".pdf":
        from .render.pdf import compile_pdf

        _write(output, compile_pdf(tex), spec)
    else:
        _emit(lambda: tex, output, spec)
    _exit_for(ex.verification)


def _explain_top(s: Any, weight: str, values: dict[str, Any], k: int, fmt: str,
                 output: str | None, spec: str, opts: Any) -> None:
    """`explain --top K`: the K largest paths and the length distribution, in any format."""
    from .analyses.lengths import path_lengths
    from .analyses.toppaths import top_paths
    from .render.progressbar import reporter

    tp = top_paths(s, weight, k, values, progress=reporter())
    lengths = path_lengths(s, weight, values)
    if fmt == "json":
        from .render import jsonout

        data = jsonout.top_paths(tp, lengths, _route_dist(s, weight, values))
        _emit(lambda: jsonout.dumps(data), output, spec)
    elif fmt in ("latex", "markdown", "html", "pdf"):
        _emit(lambda: _document(tp, fmt, False, opts), output, spec)
    else:
        from rich.console import Group
        from rich.text import Text

        from .render import lengths_table, toppaths_table

        _emit(lambda: Group(toppaths_table.top_paths(tp, opts), Text(""),
                            lengths_table.path_lengths(lengths, opts.digits),
                            *_route_parts(s, weight, values)), output, spec)


def _route_parts(s: Any, weight: str, values: dict[str, Any] | None) -> list[Any]:
    """The route table (c only, h only, mixed …) of an unrolled cell net, else nothing."""
    if not weight:
        return []
    from .analyses.routes import path_routes

    dist = path_routes(s, weight, values) if weight else None
    if dist is None or len(dist.classes) < 2:  # one route: the length table says it all
        return []
    from rich.text import Text

    from .render.routes_table import routes

    return [Text(""), routes(dist)]


def _route_dist(s: Any, weight: str, values: dict[str, Any] | None) -> Any:
    """The paths by route of a net with steps (rnn, lstm, gru), for JSON's "path_routes"."""
    if not weight:
        return None
    from .analyses.routes import path_routes

    return path_routes(s, weight, values) if weight else None


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", required=True, help="The param, input or node to differentiate by.")
@click.option("--forward", is_flag=True,
              help="Forward mode instead: tangents from WEIGHT towards the loss.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override an input or param value (repeatable).")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default=None,
              help="Output format (default: table, or json for an -o ending in .json).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
@click.option("--max-paths", type=click.IntRange(min=0), default=10_000, show_default=True,
              help="List and add up the paths too, to compare, when there are at most this many.")
@_DIGITS
def backprop(spec: str, weight: str, forward: bool, sets: tuple[str, ...], fmt: str | None,
             output: str | None, max_paths: int, digits: int = 6) -> None:
    """Add up every path from WEIGHT to the loss the way backprop does: without listing them.

    One row per name between WEIGHT and the loss, nearest the loss first:
    δ_v = Σ over v's children c of δ_c · ∂c/∂v, in node names and as a number, with the
    number of paths each δ stands for. δ_WEIGHT is the sum over paths; when there are few
    enough paths they are listed and added up too, to show the two agree. The last lines
    count the multiplications against listing every path. --forward shows forward mode.

    Example: pathgrad backprop examples/question.yaml --weight w11
    """
    with _errors():
        from .analyses.backprop import backprop as run
        from .render.progressbar import reporter

        fmt = fmt or _format_from(output, ("table", "json"))
        values = _values(sets)
        s = _load(spec)
        bp = run(s, weight, values, forward=forward, max_listing=max_paths,
                 progress=reporter())
        if fmt == "json":
            from .render import backprop_json, jsonout

            _emit(lambda: jsonout.dumps(backprop_json.backprop(bp)), output, spec)
        else:
            from .render import backprop_table

            _emit(lambda: backprop_table.backprop(bp, digits), output, spec)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@_DIGITS
def show(spec: str, fmt: str, digits: int = 6) -> None:
    """Show a network: inputs and params with values, nodes and their values, path counts.

    For every param and input, the number of paths from it to the loss (exact); for every
    node its value at the spec's point (the forward pass); and how many paths from the
    params to the loss have each length. Big specs are grouped by name pattern (w3_*_*);
    --format json lists every name. For rnn, lstm and gru nets, the paths from the first
    input grouped by route (cell state c only, hidden state h only, mixed).

    Example: pathgrad show examples/question.yaml
    """
    with _errors():
        from .analyses.lengths import network_path_lengths

        s = _load(spec)
        lengths = network_path_lengths(s, "param" if s.params else "input")
        if fmt == "json":
            from .render import jsonout

            data = jsonout.spec_summary(s, lengths, _route_dist(s, _probe(s), None))
            _emit(lambda: jsonout.dumps(data), None, spec)
        else:
            from rich.console import Group
            from rich.text import Text

            from .render import lengths_table, overview

            _emit(lambda: Group(overview.spec_overview(s, digits), Text(""),
                                lengths_table.path_lengths(lengths, digits),
                                *_route_parts(s, _probe(s), None)), None, spec)


def _probe(s: Any) -> str:
    """The input `show` follows by route: the first input of step 1 (x1_1, x1); on a big net
    ("" : no route table) the values' DP would cost more than the rest of `show`."""
    if not (s.meta.get("routes") or "rnn" in s.meta) or len(s.nodes) > 2_000:
        return ""  # no steps, no routes: nor a reason to load the numeric layer (sympy)
    from .analyses.routes import default_source

    return default_source(s)


def _load(path: str) -> Any:
    """load(path) with Python's cycle collector paused: a big spec is millions of small
    objects, and Python 3.11 rescans them all again and again while they are made (a third
    of the time on a 50-layer net). Afterwards they are frozen: they live until exit."""
    import gc

    from .spec import load

    was = gc.isenabled()
    gc.disable()
    try:
        s = load(path)
    finally:
        if was:
            gc.enable()
    if len(s.inputs) + len(s.params) + len(s.nodes) > 10_000:
        gc.freeze()  # only for big specs: frozen garbage is never collected
    return s


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", default=None,
              help="The param, input or node to differentiate by (default: the first param "
                   "the loss depends on).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Start from this input or param value (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the page to FILE (atomically) instead of the terminal.")
@click.option("--max-paths", type=click.IntRange(min=1), default=10_000, show_default=True,
              envvar="PATHGRAD_MAX_PATHS", show_envvar=True,
              help="Refuse to list more paths than this.")
def page(spec: str, weight: str | None, sets: tuple[str, ...], output: str | None,
         max_paths: int) -> None:
    """Write the interactive page: one self-contained HTML file that needs no network.

    A slider and a number box for every input and param; moving one recomputes, in the page,
    every node value, local partial, path value and share and the gradient. Click a node or
    an edge to light every path through it; step through backprop (or forward mode) with
    the buttons or the keys left, right and space. The page's arithmetic is JavaScript
    generated from pathgrad's sympy expressions. `explain --format html --interactive` writes
    the same page with the verdict of the proof added.

    Example: pathgrad page examples/question.yaml --weight w11 -o question.html
    """
    with _errors():
        from .render import interactive as live

        values = _values(sets)
        s = _load(spec)
        chosen = weight or live.default_weight(s)
        _emit(lambda: live.page(s, chosen, values, max_paths=max_paths), output, spec)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
def expand(spec: str, output: str | None) -> None:
    """Print a spec in the nodes form: every name a builder (mlp, rnn, …) generates.

    The YAML loads back to the same network (names, expressions, values, loss, LaTeX), so
    you can see and edit every generated node.

    Example: pathgrad expand examples/mazur.yaml -o mazur_nodes.yaml
    """
    with _errors():
        from .spec import load
        from .spec.dump import to_yaml

        s = load(spec)
        _emit(lambda: to_yaml(s), output, spec)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", default=None,
              help="Highlight every path from this name to the loss.")
@click.option("--label", type=click.Choice(["partial", "value", "none"]), default="none",
              show_default=True,
              help="Edge labels: the local partial ∂v/∂u, its value at the spec's point, or none.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override an input or param value for --label value (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="The picture: .svg, .png, .dot (Graphviz) or .mmd (Mermaid); written "
                   "atomically.")
@click.option("--view", type=click.Choice(["auto", "graph", "neuron"]), default="auto",
              show_default=True,
              help="graph: every name a node; neuron: units (z | a) in layer columns, weights "
                   "as labelled edges; auto: neuron for mlp and rnn nets, else graph.")
def graph(spec: str, weight: str | None, label: str, sets: tuple[str, ...], output: str,
          view: str) -> None:
    """Draw the network left to right in layers, the paths from WEIGHT to the loss in red.

    A layered layout with crossing reduction; edges bend around nodes, labels sit on their
    own edge. Nets made by the mlp and rnn builders are drawn as neurons (--view neuron):
    units z | a in layer (or time-step) columns, weights w⁽ˡ⁾ⱼₖ on the edges. The format is
    taken from -o's extension; .dot and .mmd have no size limit.

    Example: pathgrad graph examples/question.yaml -w w11 --label partial -o q.png
    """
    with _errors():
        from .render import drawing
        from .spec import load

        fmt = drawing.format_of(output)
        values = _values(sets)
        s = load(spec)
        picture = drawing.draw(s, fmt, weight, label, values or None, view)
        _write(output, picture, spec)


@cli.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("-w", "--weight", "weights", multiple=True, metavar="NAME",
              help="Where the paths start: once for every spec, or once per spec in order "
                   "(default: each spec's first input of step 1, x1_1 or x1).")
@click.option("--by", type=click.Choice(["length", "route"]), default=None,
              help="x axis: path length in edges (default), or the route between steps "
                   "(c only, h only, mixed …).")
@click.option("--steps", "steps", default=None, metavar="LIST",
              help="Rebuild each spec (rnn, lstm, gru) with T = each of these steps, e.g. "
                   "1-12 or 2,4,8, and plot each route's share against T.")
@click.option("--measure", type=click.Choice(["share", "magnitude"]), default="share",
              show_default=True,
              help="With --steps: each route's share of |gradient|, or |gradient| it carries "
                   "(log axis).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="The plot: .svg or .png (written atomically).")
def lengths(specs: tuple[str, ...], weights: tuple[str, ...], by: str | None,
            steps: str | None, measure: str, output: str) -> None:
    """Plot where the gradient travels: share of |∂loss/∂WEIGHT| by path length or route.

    One line per spec, so a plain RNN, an LSTM and a residual net stand side by side. A
    length's (or route's) share is |Σ of its paths| / Σ over lengths of |Σ of their paths|,
    computed exactly by dynamic programming (no path is listed). With --steps, each spec is
    rebuilt with T steps for every T in LIST, and each route's share (c only, h only, mixed)
    is drawn against T: which paths survive as the unroll grows.

    Example: pathgrad lengths examples/rnn.yaml examples/lstm.yaml --weight x1 -o lengths.png
    """
    with _errors():
        from .errors import UsageError
        from .render import lengthplot

        fmt = Path(output).suffix.lower().lstrip(".")
        if fmt not in ("svg", "png"):
            raise UsageError(f"-o {output}: lengths draws .svg or .png",
                             suggestion="use -o plot.svg or -o plot.png")
        if len(weights) not in (0, 1, len(specs)):
            raise UsageError(f"{len(weights)} --weight for {len(specs)} specs",
                             suggestion="give one --weight for all, or one per spec")
        chosen = [weights[0] if len(weights) == 1 else weights[i] if weights else None
                  for i in range(len(specs))]
        names = [Path(p).stem for p in specs]
        if steps is not None:
            from .analyses.routes import route_sweep

            if by == "length":
                raise UsageError("--steps plots routes, not lengths", suggestion="drop --by")
            ts = _step_list(steps)
            plot = lengthplot.by_steps([(n, route_sweep(p, ts, w))
                                        for n, p, w in zip(names, specs, chosen)], measure)
        elif by == "route":
            from .analyses.routes import default_source, path_routes

            dists = []
            for n, p, w in zip(names, specs, chosen):
                s = _load(p)
                d = path_routes(s, w or default_source(s))
                if d is None:
                    raise UsageError(f"{p} has no steps, so no routes between them",
                                     suggestion="use --by length, or an rnn, lstm or gru spec")
                dists.append((n, d))
            plot = lengthplot.by_route(dists)
        else:
            from .analyses.lengths import path_lengths
            from .analyses.routes import default_source

            dists = []
            for n, p, w in zip(names, specs, chosen):
                s = _load(p)
                d = path_lengths(s, w or default_source(s))
                if d.note and d.gradient is None and all(b.value is None for b in d.bins):
                    raise _nothing_to_plot(n, d)
                if d.gradient == 0 and all(not b.value for b in d.bins):
                    raise UsageError(f"{n}: ∂{d.target}/∂{d.source} is 0 at the spec's point, "
                                     "along every path length: no share of it to plot",
                                     suggestion="choose another --weight, or other values in "
                                                "the spec")
                dists.append((n, d))
            plot = lengthplot.by_length(dists)
        for line in plot.lines:
            if all(y is None for y in line.ys):
                raise UsageError(f"{line.label}: no values at the spec's point to plot",
                                 suggestion="give every input and param a value")
        _write(output, lengthplot.render(plot, fmt), None)


def _nothing_to_plot(name: str, d: Any) -> Exception:
    """Why a length distribution has no value to plot, in one line: ∂E/∂w beyond a float,
    undefined at the point, or too many lengths to tabulate (its note says which)."""
    from .errors import UsageError

    what = f"{name}: ∂{d.target}/∂{d.source}"
    if d.note.startswith("too "):  # every leaf has a value; the gradient is beyond a float
        return UsageError(f"{what} is {d.note}: nothing to plot",
                          suggestion=f"`pathgrad backprop --weight {d.source}` shows each δ "
                                     "on the way, at any length")
    if "has no value" in d.note:
        return UsageError(f"{what}: nothing to plot: {d.note}",
                          suggestion="give every input and param a value")
    return UsageError(f"{what}: nothing to plot: {d.note}",
                      suggestion="`pathgrad show` gives the path counts")


def _step_list(text: str) -> list[int]:
    """'1-12' or '2,4,8' (or both: '1-4,8') as a sorted list of step counts."""
    from .errors import UsageError

    out: set[int] = set()
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()) or int(lo) < 1:
            raise UsageError(f"--steps '{text}' must list step counts such as 1-12 or 2,4,8")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a or b > 1_000 or len(out) + b - a > 200:
            raise UsageError(f"--steps '{text}': at most 200 counts, each from 1 to 1,000",
                             suggestion="for example --steps 1-12")
        out.update(range(a, b + 1))
    return sorted(out)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.argument("answers", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", default=None,
              help="The weight the answers are about (default: the file's `weight:`).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.01, show_default=True,
              metavar="REL", help="Relative tolerance for numbers (0.01 is 1 %).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override an input or param value (after the file's `values:`).")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def check(spec: str, answers: str, weight: str | None, tolerance: float,
          sets: tuple[str, ...], fmt: str) -> None:
    """Check a student's hand calculation of ∂loss/∂WEIGHT, path by path.

    ANSWERS is a YAML file: `weight:`, `paths:` (each with `nodes:` and optional `factors:`,
    numbers or expressions in the network's names, and `value:`), optional `gradient:` and
    `values:` (the point, e.g. a sheet's variant). Says which paths are right, which factor
    is wrong (expected, given), whether a wrong product only carries a wrong factor, which
    paths are missing and why the gradient is off; then the score.

    Exit status: 0 all correct and nothing missing, 1 otherwise, 2 bad input.

    Example: pathgrad check examples/question.yaml answers.yaml
    """
    with _errors():
        from .analyses.grading import grade
        from .spec.answers import read_answers

        values = _values(sets)
        s = _load(spec)
        result = grade(s, read_answers(answers, s), weight, tolerance=tolerance,
                       values=values)
        if fmt == "json":
            from .render import grading_json, jsonout

            _emit(lambda: jsonout.dumps(grading_json.grade(result)), None, spec)
        else:
            from .render import grading_table

            _emit(lambda: grading_table.grade(result), None, spec)
    sys.exit(0 if result.correct else 1)


_VIEW_FORMATS = ("table", "json", "latex", "markdown", "html")


def _view_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--set, --format and -o of the commands whose output is a view (`matrix`, `gradient`)."""
    for option in reversed([
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                     help="Override an input or param value (repeatable)."),
        click.option("-f", "--format", "fmt", default=None, type=click.Choice(_VIEW_FORMATS),
                     help="Output format (default: table, or from -o's extension: .txt .json "
                          ".tex .md .html)."),
        click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                     help="Write to FILE instead of the terminal (atomically).")]):
        command = option(command)
    return command


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("--lr", default=None, metavar="η",
              help="Learning rate: take gradient-descent steps p ← p − η·∂loss/∂p.")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many steps to take (with --lr).")
@click.option("--update", default=None, metavar="GLOB",
              help="Only update the params matching GLOB (comma-separated globs, e.g. 'w*'); "
                   "default every param.")
@_view_options
def gradient(spec: str, lr: str | None, steps: int, update: str | None, sets: tuple[str, ...],
             fmt: str | None, output: str | None) -> None:
    """The whole gradient at once: ∂loss/∂p for every param, each one verified.

    One reverse-mode sweep over the network gives every param's derivative (each the sum over
    all its paths, none listed); each is checked against symengine's derivative of the
    composed loss (small networks) or the complex-step derivative (any size). With --lr,
    gradient-descent steps on the params matched by --update, with the new values and the
    loss before and after each step. Exit status: 0 verified, 1 a derivative differs, 2 bad input.

    Example: pathgrad gradient examples/mazur.yaml --lr 0.5 --update 'w*'
    """
    with _errors():
        from .analyses.gradient import gradient as run
        from .errors import UsageError

        fmt = fmt or _format_from(output, _VIEW_FORMATS)
        rate = None
        if lr is not None:
            from .spec import parse_value

            try:
                rate = parse_value(lr.strip())
            except ValueError as exc:
                raise UsageError(f"--lr: {exc}", None, "for example --lr 0.5") from None
            if rate is None or rate <= 0:
                raise UsageError(f"--lr must be a positive number, not {lr}", None,
                                 "for example --lr 0.5")
        elif steps != 1 or update is not None:
            raise UsageError("--steps and --update need a learning rate",
                             suggestion="add --lr 0.5")
        values = _values(sets)
        s = _load(spec)
        gr = run(s, values, lr=rate, steps=steps, update=update)
        from .render.gradient_notebook import wrap

        _emit_view(wrap(gr), fmt, output, spec)
    if not gr.verified:
        bad = next((st.verification for st in gr.steps if not st.verification.verified),
                   gr.verification)
        click.echo(f"Error: NOT VERIFIED: {bad.detail}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", default=None,
              help="A weight w{l}_{j}_{k} (or bias): show how its paths become its entry of "
                   "δ^l (a^{l−1})ᵀ.")
@_view_options
def matrix(spec: str, weight: str | None, sets: tuple[str, ...], fmt: str | None,
           output: str | None) -> None:
    """Backprop in matrix form: Nielsen's BP1–BP4, layer by layer, for an mlp-built net.

    The vectors and matrices in the network's own names, their shapes and their values at
    the point, δ^l = ((W^{l+1})ᵀ δ^{l+1}) ⊙ σ′(z^l) and ∂E/∂W^l = δ^l (a^{l−1})ᵀ; with
    --weight, the weight's paths grouped by the unit they pass next, which is where the
    transpose comes from. Every entry is checked against the sum over its paths and the
    direct derivative. Exit status: 0 verified, 1 an entry differs, 2 bad input (a network
    not made by `mlp:` included: use `pathgrad backprop` for any DAG).

    For an `rnn:` net: backprop through time in matrix form, δ_t = (Wᵀ δ_{t+1} + v g_t) ⊙
    act′(z_t) and ∂E/∂W = Σ_t δ_t (h_{t−1})ᵀ, in every format.

    Example: pathgrad matrix examples/mazur.yaml --weight w1_1_1
    """
    with _errors():
        from .analyses.matrix_bptt import matrix_or_bptt

        fmt = fmt or _format_from(output, _VIEW_FORMATS)
        values = _values(sets)
        s = _load(spec)
        mf = matrix_or_bptt(s, values, weight=weight)  # BPTT for an rnn, BP1–BP4 for an mlp
        from .render.matrix_notebook import wrap

        _emit_view(wrap(mf), fmt, output, spec)
    if not mf.verified:
        click.echo(f"Error: NOT VERIFIED: {mf.verification.detail}", err=True)
        sys.exit(1)


def _emit_view(view: Any, fmt: str, output: str | None, spec_path: str) -> None:
    """Print or write a view's rendering (render.matrix_notebook.Rendered): the table, JSON,
    LaTeX, Markdown or HTML of `matrix` and `gradient`."""
    if fmt == "json":
        _emit(view.to_json, output, spec_path)
    else:
        _emit(lambda: view.rendering("text" if fmt == "table" else fmt), output, spec_path)


_EXERCISE_FORMATS = {".tex": "latex", ".pdf": "pdf", ".md": "markdown", ".markdown": "markdown",
                     ".json": "json", ".xml": "moodle"}


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-w", "--weight", required=True, help="The param, input or node to ask about.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; variant j uses seed N+j-1, so --seed N+j-1 regenerates it.")
@click.option("--variants", type=click.IntRange(min=1, max=200), default=1, show_default=True,
              metavar="K", help="How many versions, each with its own values.")
@click.option("--vary", default=None, metavar="NAMES",
              help="Comma list of inputs/params to draw values for (default: every param).")
@click.option("--blank", default=None, metavar="WHAT",
              help="What the student fills in: paths, partials, values, or a comma list "
                   "(default: all three).")
@click.option("--key", is_flag=True,
              help="Add the answer key (filled blanks, points line by line) after the sheets.")
@click.option("--answers-template", is_flag=True,
              help="Write the ANSWERS.yaml skeleton of the variant with --seed, for "
                   "`pathgrad check`.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="The file: .tex or .pdf (article), .md, .json, .xml (Moodle XML); a .yaml "
                   "for --answers-template.")
def exercise(spec: str, weight: str, seed: int, variants: int, vary: str | None,
             blank: str | None, key: bool, answers_template: bool, output: str) -> None:
    """Write a problem sheet for ∂loss/∂WEIGHT as a sum over paths (and its answer key).

    K variants with "nice" random values (one or two decimals; no value makes a path vanish
    or a function undefined), reproducible from --seed and printed on the sheet. The sheet
    shows the network, the values and blanks for the paths, the local partials and the
    numbers; --key adds, after the sheets, the key: the blanks filled and the points line
    by line. .json holds every variant's key; .xml is a Moodle quiz with one cloze question
    per variant.

    Example: pathgrad exercise examples/question.yaml -w w11 --variants 3 --key -o exam.pdf
    """
    with _errors():
        from .analyses.exercise import exercise as run
        from .analyses.exercise import parse_blank, parse_vary
        from .errors import UsageError

        fmt = _EXERCISE_FORMATS.get(Path(output).suffix.lower())
        if answers_template:
            if variants != 1:
                raise UsageError("--answers-template writes one variant's file", None,
                                 "leave out --variants and give that variant's --seed")
            if key:
                raise UsageError("--answers-template and --key are two different files",
                                 None, "leave out one of them")
        elif fmt is None:
            raise UsageError(f"-o {output}: cannot tell the format from its extension", None,
                             "use .tex, .pdf, .md, .json or .xml")
        s = _load(spec)
        ex = run(s, weight, seed=seed, variants=variants, vary=parse_vary(s, vary),
                 blank=parse_blank(blank))
        if answers_template:
            from .render import exercise_answers

            _write(output, exercise_answers.template(ex, spec), spec)
            return
        if fmt == "json":
            from .render import exercise_json, jsonout

            _write(output, jsonout.dumps(exercise_json.exercise(ex)), spec)
        elif fmt == "moodle":
            from .render import exercise_moodle

            _write(output, exercise_moodle.quiz(ex, spec), spec)
        elif fmt == "markdown":
            from .render import exercise_markdown

            _write(output, exercise_markdown.render(ex, key, spec), spec)
        else:
            from .render import exercise_latex

            tex = exercise_latex.render(ex, key, spec)
            if fmt == "pdf":
                from .render.pdf import compile_pdf

                _write(output, compile_pdf(tex), spec)
            else:
                _write(output, tex, spec)


def _not_the_spec(output: str | None, spec_path: str) -> None:
    """-o naming the spec itself is refused before anything else is said about it."""
    if output and output != "-" and os.path.exists(output) and os.path.exists(spec_path) \
            and os.path.samefile(output, spec_path):
        from .errors import UsageError

        raise UsageError(f"-o {output} is the spec itself; choose another output file")


_EXTENSIONS = {".txt": "table", ".json": "json", ".tex": "latex", ".pdf": "pdf",
               ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
_TEXT_FORMATS = ("table", "json", "latex", "markdown", "html")


def _format_from(output: str | None, allowed: tuple[str, ...] = _TEXT_FORMATS) -> str:
    """The format for an output file name, by its extension; no extension (or `-o -`, or no
    -o) is the text table. An unknown extension is an error listing the known ones."""
    from .errors import UsageError

    ext = Path(output).suffix.lower() if output else ""
    if ext in (".svg", ".png", ".dot", ".gv", ".mmd"):
        raise UsageError(f"-o {output}: explain writes text, not pictures",
                         suggestion=f"use `pathgrad graph SPEC --weight NAME -o {output}`")
    if not ext or output == "-":
        return "table"
    fmt = _EXTENSIONS.get(ext)
    if fmt is None or fmt not in allowed:
        known = [e for e, f in _EXTENSIONS.items() if f in allowed]
        raise UsageError(f"-o {output}: unknown extension '{ext}'",
                         suggestion="use " + ", ".join(known) + " or no extension (a text "
                         "table)")
    return fmt


class Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler: click would turn a KeyboardInterrupt into
    'Aborted!' with status 1."""


def _interrupt(signum: int, frame: Any) -> None:
    raise Interrupted


def main() -> None:
    """Entry point: run the CLI; Ctrl-C stops cleanly with status 130."""
    import signal

    signal.signal(signal.SIGINT, _interrupt)
    try:
        try:
            cli(prog_name="pathgrad")
        finally:
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except (KeyboardInterrupt, Interrupted):
        click.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # writing to standard output failed (files have their own errors)
        _stdout_failed(exc)


def _stdout_failed(exc: OSError) -> None:
    """One line and exit 2 when standard output cannot be written; a closed pipe is quiet."""
    import errno

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # what is still buffered goes nowhere, quietly
    if exc.errno == errno.EPIPE:
        sys.exit(141)  # as a shell reports SIGPIPE: `pathgrad … | head` is no error
    from .output import describe_os_error

    click.echo(f"Error: cannot write to standard output: {describe_os_error(exc)}", err=True)
    sys.exit(2)
