"""The command line: a thin click layer over the library.

Library errors become one `Error: …` line on stderr and exit status 2; a failed verification
is exit status 1. Heavy modules (sympy, networkx, rich) load inside the commands, so
`pathgrad --help` stays fast.
"""

from __future__ import annotations

import os
import sys
import tempfile
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
    except RecursionError:
        raise click.ClickException("the input is nested too deeply to process") from None


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
        except ValueError:
            raise UsageError(f"--set {name}: '{raw}' is not a number", None,
                             "use a decimal like 0.5, -1.2e-3 or a fraction like 1/3") from None
    return out


def _write(path: str, text: str, spec_path: str | None) -> None:
    """Write `text` to `path` atomically (temp file + rename); never over the spec itself."""
    from .errors import UsageError

    target = Path(path)
    if spec_path and target.exists() and os.path.exists(spec_path) \
            and os.path.samefile(target, spec_path):
        raise UsageError(f"-o {path} is the spec itself; choose another output file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"-o {path}: folder '{folder}' does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default=None,
              help="Output format (default: table, or from -o's extension).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE instead of the terminal (atomically).")
@click.option("--max-paths", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Refuse to list more paths than this.")
def explain(spec: str, weight: str, sets: tuple[str, ...], fmt: str | None, output: str | None,
            max_paths: int) -> None:
    """Explain ∂loss/∂WEIGHT as a sum over every path from WEIGHT to the loss.

    Lists each path with its chain of local partials (loss side first), the value of each
    path at the spec's point and its share of the total, then the sum, sympy's direct
    derivative of the composed loss, and the verdict with the method that proved them equal.

    Exit status: 0 verified, 1 the sum and the direct derivative differ, 2 bad input.

    Example: pathgrad explain examples/question.yaml --weight w11 --set x1=0.5
    """
    fmt = fmt or _format_from(output)
    with _errors():
        from .explain import explain as run
        from .spec import load

        values = _values(sets)
        s = load(spec)
        ex = run(s, weight, values, max_paths=max_paths)
        if fmt == "json":
            from .render import jsonout

            _emit(lambda: jsonout.dumps(jsonout.explanation(ex)), output, spec)
        else:
            from .render import table

            _emit(lambda: table.explanation(ex), output, spec)
    if not ex.verified:
        click.echo(f"Error: NOT VERIFIED: {ex.verification.detail}", err=True)
        sys.exit(1)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=True))
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
def show(spec: str, fmt: str) -> None:
    """Show a network: inputs and params with values, nodes, the loss, and path counts.

    For every param and input, the number of paths from it to the loss (exact).

    Example: pathgrad show examples/question.yaml
    """
    with _errors():
        from .spec import load

        s = load(spec)
        if fmt == "json":
            from .render import jsonout

            _emit(lambda: jsonout.dumps(jsonout.spec_summary(s)), None, spec)
        else:
            from .render import table

            _emit(lambda: table.spec_overview(s), None, spec)


def _format_from(output: str | None) -> str:
    if output and output.endswith(".json"):
        return "json"
    return "table"


def main() -> None:
    """Entry point: run the CLI; Ctrl-C stops cleanly with status 130."""
    try:
        cli(prog_name="pathgrad")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
