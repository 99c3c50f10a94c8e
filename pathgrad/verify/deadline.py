"""The time budget, and the check that needs no direct derivative at all.

sympy.diff of a deep composed loss can take minutes and cannot be interrupted from outside. It
runs in a worker thread with a deadline; past the deadline the thread is stopped (an exception
is raised inside it at its next Python instruction). When no direct derivative is available in
time, the sum over paths is checked against central finite differences of the loss at 50 digits,
on the shared DAG, at the same points as the numeric identity test.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network, partial
from ..graph import between
from ..numeric.evaluate import MPAlgebra, NoValue, evaluate, forward
from ..progress import SILENT, Reporter
from .methods import Verification
from .sampling import RANDOM_POINTS, compare, sample_points, sum_value

__all__ = ["DEFAULT_VERIFY_TIMEOUT", "diff_within", "finite_difference_check",
           "central_difference", "FD_DIGITS", "FD_STEP"]

DEFAULT_VERIFY_TIMEOUT = 30.0  # seconds for the direct derivative before the DAG fallback
FD_DIGITS = 50
FD_NODE_BUDGET = 6_000  # names times random points: past it, fewer random points
FD_STEP = mpmath.mpf(10) ** -20  # truncation error ~h² = 1e-40, rounding ~1e-50/h = 1e-30
FD_TOLERANCE = mpmath.mpf(10) ** -20  # relative; both errors are far below it
WORKER_STACK = 256 * 1024 * 1024  # sympy recurses deeply; threads get a small stack otherwise


class _Stop(BaseException):
    """Raised inside the worker thread to stop sympy.diff (BaseException: sympy won't catch it)."""


def diff_within(expr: sp.Expr, symbol: sp.Symbol, timeout: float | None,
                progress: Reporter = SILENT) -> sp.Expr | None:
    """sympy.diff(expr, symbol), or None when it takes longer than `timeout` seconds (0: None
    at once).

    With no timeout it runs in this thread. Errors inside sympy (RecursionError, MemoryError)
    are raised here; so is KeyboardInterrupt, after the worker is stopped.
    """
    if timeout is None:
        return partial(expr, symbol)
    if timeout <= 0:
        return None  # no time at all: not even a quick try
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = partial(expr, symbol)
        except _Stop:
            pass
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = _start(work)
    start = time.monotonic()
    try:
        with progress.task(f"sympy.diff of the composed loss (s of --verify-timeout "
                           f"{timeout:g})", timeout) as task:
            while worker.is_alive():
                elapsed = time.monotonic() - start
                if elapsed >= timeout:
                    break
                worker.join(min(0.1, timeout - elapsed))
                task.update(min(time.monotonic() - start, timeout))
    finally:
        if worker.is_alive():
            _stop(worker)
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _start(work: Any) -> threading.Thread:
    old = threading.stack_size()
    try:
        threading.stack_size(WORKER_STACK)
    except (ValueError, RuntimeError):
        pass  # the platform's default stack then
    try:
        worker = threading.Thread(target=work, name="pathgrad-sympy-diff", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old)
    return worker


def _stop(worker: threading.Thread, wait: float = 2.0) -> None:
    """Raise _Stop inside `worker` and give it `wait` seconds to unwind (it stays a daemon)."""
    if worker.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident),
                                                   ctypes.py_object(_Stop))
    worker.join(wait)


def central_difference(net: Network, weight: str, values: Mapping[str, Any],
                       step: Any = FD_STEP, env: Mapping[sp.Basic, Any] | None = None) -> Any:
    """(loss(w + h) − loss(w − h)) / 2h on the DAG at `values` (call inside workdps); `env`:
    the forward pass at `values`, when the caller has it. Only the names between the weight
    and the loss are computed again on each side."""
    sym = net.symbols
    alg = MPAlgebra()
    if env is None:
        env = forward(net.graph.order, net.exprs, sym, values, alg)
    base = env[sym[weight]]
    if isinstance(base, NoValue):
        return base
    loss = sym[net.spec.loss]
    downstream = between(net.graph, weight, net.spec.loss)[1:]
    sides = []
    for sign in (1, -1):
        side = dict(env)
        side[sym[weight]] = base + sign * step
        for n in downstream:
            side[sym[n]] = evaluate(net.exprs[n], side, alg)
        sides.append(side[loss])
    for s in sides:
        if isinstance(s, NoValue):
            return s
    return (sides[0] - sides[1]) / (2 * step)


def finite_difference_check(net: Network, weight: str, sum_names: sp.Expr,
                            point: Mapping[str, Fraction | None] | None, why: str
                            ) -> Verification:
    """The sum over paths against central finite differences of the loss at 50 digits, at the
    spec's point (when every leaf has a value) and at three random points."""
    leaves = [*net.spec.inputs, *net.spec.params]  # a node as the weight is computed, then
    sym = net.symbols                                # perturbed by ±h with the rest held fixed
    alg = MPAlgebra()

    passes: dict[int, Any] = {}  # the forward pass at a point, for both sides of the check

    def lhs(values: dict) -> Any:
        passes.clear()
        env = passes[id(values)] = forward(net.graph.order, net.exprs, sym, values, alg)
        return sum_value(sum_names, env, alg)

    # three forward passes a point: a 20,000-node chain gets the spec's point and one more
    count = min(RANDOM_POINTS, max(1, FD_NODE_BUDGET // max(len(net.graph.order), 1)))
    found = compare(sample_points(leaves, point, count=count), lhs,
                    lambda values: central_difference(net, weight, values,
                                                      env=passes.get(id(values))),
                    FD_TOLERANCE, FD_DIGITS)
    if found.differ:
        a, b = found.differ
        return Verification(
            False, "finite-difference",
            f"{why}; the sum over paths and a central finite difference of the loss "
            f"DIFFER: {mpmath.nstr(a, 12)} ≠ {mpmath.nstr(b, 12)} at a test point")
    if not found.used:
        return Verification(False, "none", f"{why}; could not verify: the sum over paths or the "
                                           "loss is undefined at every test point")
    used = found.used
    return Verification(
        True, "finite-difference",
        f"{why}; checked instead by central finite differences of the composed loss on its "
        f"DAG ({FD_DIGITS}-digit mpmath, h = 1e-20) at {used} point{'s' if used != 1 else ''}: "
        f"largest relative difference {found.worst_text()}",
        float(found.worst) or None)
