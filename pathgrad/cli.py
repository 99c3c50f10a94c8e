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
    if isinstance(result, str):
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
              type=click.Choice(["table", "json", "latex", "markdown", "html"]),
              help="Output format (default: table, or from -o's extension: .txt .json .tex "
                   ".md .html).")
@click.option("--fragment", is_flag=True,
              help="With --format latex: only the math (align* blocks), no document around it.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
@click.option("--max-paths", type=click.IntRange(min=1), default=10_000, show_default=True,
              envvar="PATHGRAD_MAX_PATHS", show_envvar=True,
              help="Refuse to list more paths than this.")
@click.option("--top", "top", type=click.IntRange(min=1), default=None, metavar="K",
              help="Only the K paths with the largest |value|, found without listing the rest "
                   "(any number of paths); says what share of the gradient they carry.")
@click.option("--verify-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              metavar="SECONDS",
              help="Time for sympy.diff of the composed loss; past it, the sum is checked by "
                   "central finite differences on the DAG instead.")
def explain(spec: str, weight: str, sets: tuple[str, ...], fmt: str | None, fragment: bool,
            output: str | None, max_paths: int, top: int | None,
            verify_timeout: float) -> None:
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

        fmt = fmt or _format_from(output)
        if fragment and fmt != "latex":
            from .errors import UsageError

            raise UsageError("--fragment only applies to LaTeX output",
                             suggestion="add --format latex (or write to a .tex file)")
        values = _values(sets)
        s = _load(spec)
        if top is not None:
            _explain_top(s, weight, values, top, fmt, output, spec)
            return
        from .render.progressbar import reporter

        ex = run(s, weight, values, max_paths=max_paths, verify_timeout=verify_timeout,
                 progress=reporter())
        from .analyses.lengths import path_lengths

        lengths = path_lengths(s, weight, values)
        if fmt == "json":
            from .render import jsonout, toppaths_json

            data = jsonout.explanation(ex)
            data["path_lengths"] = toppaths_json.path_lengths(lengths)
            data.update(_route_data(s, weight, values))
            _emit(lambda: jsonout.dumps(data), output, spec)
        elif fmt in ("latex", "markdown", "html"):
            from .render import html, latex, markdown

            if fmt == "latex":
                _emit(lambda: latex.render(ex, fragment=fragment), output, spec)
            else:
                _emit(lambda: (html if fmt == "html" else markdown).render(ex), output, spec)
        elif len(lengths.bins) > 1:  # paths of several lengths: show how they spread
            from rich.console import Group
            from rich.text import Text

            from .render import table, toppaths_table

            _emit(lambda: Group(table.explanation(ex), Text(""),
                                toppaths_table.path_lengths(lengths),
                                *_route_parts(s, weight, values)), output, spec)
        else:
            from .render import table

            _emit(lambda: table.explanation(ex), output, spec)
    if not ex.verified:
        click.echo(f"Error: NOT VERIFIED: {ex.verification.detail}", err=True)
        sys.exit(1)


def _explain_top(s: Any, weight: str, values: dict[str, Any], k: int, fmt: str,
                 output: str | None, spec: str) -> None:
    """`explain --top K`: the K largest paths and the length distribution, table or JSON."""
    from .analyses.lengths import path_lengths
    from .analyses.toppaths import top_paths
    from .render.progressbar import reporter

    if fmt not in ("table", "json"):
        from .errors import UsageError

        raise UsageError(f"--top writes a table or JSON, not {fmt}",
                         suggestion="use --format table or --format json")
    tp = top_paths(s, weight, k, values, progress=reporter())
    lengths = path_lengths(s, weight, values)
    if fmt == "json":
        from .render import jsonout, toppaths_json

        data = toppaths_json.top_paths(tp)
        data["path_lengths"] = toppaths_json.path_lengths(lengths)
        data.update(_route_data(s, weight, values))
        _emit(lambda: jsonout.dumps(data), output, spec)
    else:
        from rich.console import Group
        from rich.text import Text

        from .render import toppaths_table

        _emit(lambda: Group(toppaths_table.top_paths(tp), Text(""),
                            toppaths_table.path_lengths(lengths),
                            *_route_parts(s, weight, values)), output, spec)


def _route_parts(s: Any, weight: str, values: dict[str, Any] | None) -> list[Any]:
    """The route table (c only, h only, mixed …) of an unrolled cell net, else nothing."""
    from .analyses.routes import path_routes

    dist = path_routes(s, weight, values) if weight else None
    if dist is None or len(dist.classes) < 2:  # one route: the length table says it all
        return []
    from rich.text import Text

    from .render.routes_table import routes

    return [Text(""), routes(dist)]


def _route_data(s: Any, weight: str, values: dict[str, Any] | None) -> dict[str, Any]:
    """{"path_routes": …} for the JSON of a net with steps (rnn, lstm, gru), else {}."""
    from .analyses.routes import path_routes
    from .render.routes_json import route_json

    dist = path_routes(s, weight, values) if weight else None
    return {} if dist is None else {"path_routes": route_json(dist)}


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
def backprop(spec: str, weight: str, forward: bool, sets: tuple[str, ...], fmt: str | None,
             output: str | None, max_paths: int) -> None:
    """Add up every path from WEIGHT to the loss the way backprop does: without listing them.

    One row per name between WEIGHT and the loss, in reverse topological order:
    δ_v = Σ over v's children c of δ_c · ∂c/∂v, in node names and as a number, with the
    number of paths each δ stands for. δ_WEIGHT is the sum over paths; when there are few
    enough paths they are listed and added up too, to show the two agree. The last lines
    count the multiplications against listing every path. --forward shows forward mode.

    Example: pathgrad backprop examples/question.yaml --weight w11
    """
    with _errors():
        from .analyses.backprop import backprop as run
        from .render.progressbar import reporter

        fmt = fmt or ("json" if output and output.endswith(".json") else "table")
        values = _values(sets)
        s = _load(spec)
        bp = run(s, weight, values, forward=forward, max_listing=max_paths,
                 progress=reporter())
        if fmt == "json":
            from .render import backprop_json, jsonout

            _emit(lambda: jsonout.dumps(backprop_json.backprop(bp)), output, spec)
        else:
            from .render import backprop_table

            _emit(lambda: backprop_table.backprop(bp), output, spec)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def show(spec: str, fmt: str) -> None:
    """Show a network: inputs and params with values, nodes, the loss, and path counts.

    For every param and input, the number of paths from it to the loss (exact), and how
    many paths from the params to the loss have each length. Big specs are grouped by name
    pattern (w3_*_*); --format json lists every name.

    Example: pathgrad show examples/question.yaml
    """
    with _errors():
        from .analyses.lengths import network_path_lengths

        s = _load(spec)
        lengths = network_path_lengths(s, "param" if s.params else "input")
        if fmt == "json":
            from .render import jsonout, toppaths_json

            data = jsonout.spec_summary(s)
            data["path_lengths"] = toppaths_json.path_lengths(lengths)
            data.update(_route_data(s, _probe(s), None))
            _emit(lambda: jsonout.dumps(data), None, spec)
        else:
            from rich.console import Group
            from rich.text import Text

            from .render import table, toppaths_table

            _emit(lambda: Group(table.spec_overview(s), Text(""),
                                toppaths_table.path_lengths(lengths),
                                *_route_parts(s, _probe(s), None)), None, spec)


def _probe(s: Any) -> str:
    """The input `show` follows by route: the first input of step 1 (x1_1, x1); on a big net
    ("" : no route table) the values' DP would cost more than the rest of `show`."""
    from .analyses.routes import default_source

    return default_source(s) if len(s.nodes) <= 2_000 else ""


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
def graph(spec: str, weight: str | None, label: str, sets: tuple[str, ...], output: str) -> None:
    """Draw the network left to right by depth, the paths from WEIGHT to the loss in red.

    Inputs and params sit on the left of the nodes that use them, the loss on the right. The
    format is taken from -o's extension; .dot and .mmd have no size limit.

    Example: pathgrad graph examples/question.yaml -w w11 --label partial -o q.png
    """
    with _errors():
        from .render import drawing
        from .spec import load

        fmt = drawing.format_of(output)
        values = _values(sets)
        s = load(spec)
        picture = drawing.draw(s, fmt, weight, label, values or None)
        _write(output, picture, spec)


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


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("--lr", default=None, metavar="η",
              help="Learning rate: take gradient-descent steps p ← p − η·∂loss/∂p.")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many steps to take (with --lr).")
@click.option("--update", default=None, metavar="GLOB",
              help="Only update the params matching GLOB (comma-separated globs, e.g. 'w*'); "
                   "default every param.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override an input or param value (repeatable).")
@click.option("-f", "--format", "fmt", default=None,
              type=click.Choice(["table", "json", "latex", "markdown"]),
              help="Output format (default: table, or from -o's extension: .txt .json .tex .md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
def gradient(spec: str, lr: str | None, steps: int, update: str | None, sets: tuple[str, ...],
             fmt: str | None, output: str | None) -> None:
    """The whole gradient at once: ∂loss/∂p for every param, each one verified.

    One reverse-mode sweep over the network gives every param's derivative (each the sum over
    all its paths, none listed); each is checked against sympy.diff of the composed loss
    (small networks) or the complex-step derivative (any size). With --lr, gradient-descent
    steps on the params matched by --update, with the new values and the loss before and
    after each step. Exit status: 0 verified, 1 a derivative differs, 2 bad input.

    Example: pathgrad gradient examples/mazur.yaml --lr 0.5 --update 'w*'
    """
    with _errors():
        from .analyses.gradient import gradient as run
        from .errors import UsageError

        fmt = fmt or _format_from(output)
        if fmt == "html":
            raise UsageError("gradient writes a table, JSON, LaTeX or Markdown, not HTML",
                             suggestion="use -o FILE.md or -o FILE.tex")
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
        if fmt == "json":
            from .render import gradient_json, jsonout

            _emit(lambda: jsonout.dumps(gradient_json.gradient(gr)), output, spec)
        elif fmt == "latex":
            from .render import gradient_latex

            _emit(lambda: gradient_latex.render(gr), output, spec)
        elif fmt == "markdown":
            from .render import gradient_markdown

            _emit(lambda: gradient_markdown.render(gr), output, spec)
        else:
            from .render import gradient_table

            _emit(lambda: gradient_table.gradient(gr), output, spec)
    if not gr.verified:
        bad = next((st.verification for st in gr.steps if not st.verification.verified),
                   gr.verification)
        click.echo(f"Error: NOT VERIFIED: {bad.detail}", err=True)
        sys.exit(1)


_EXTENSIONS = {".json": "json", ".tex": "latex", ".md": "markdown", ".markdown": "markdown",
               ".html": "html", ".htm": "html", ".txt": "table"}


def _format_from(output: str | None) -> str:
    """The explain format for an output file name: by extension, else the text table."""
    ext = Path(output).suffix.lower() if output else ""
    if ext in (".svg", ".png", ".dot", ".gv", ".mmd"):
        from .errors import UsageError

        raise UsageError(f"-o {output}: explain writes text, not pictures",
                         suggestion=f"use `pathgrad graph SPEC --weight NAME -o {output}`")
    return _EXTENSIONS.get(ext, "table")


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
