"""Verification within a time budget.

sympy.diff of a deep composed loss can take minutes (a sigmoid net with 5 layers of 8 takes
about a minute) and cannot be interrupted from outside. It runs in a worker thread with a
deadline; past the deadline the thread is stopped (an exception is raised inside it at its next
Python instruction) and verification falls back to a method that stays on the shared DAG:
central finite differences of the loss at 50 digits, compared with the sum over paths
evaluated at the same points.
"""

from __future__ import annotations

import ctypes
import random
import threading
import time
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from ..calculus import Network
from ..numeric.evaluate import MPAlgebra, NoValue, evaluate, forward, to_mpf
from ..progress import SILENT, Reporter
from .methods import Verification

__all__ = ["DEFAULT_VERIFY_TIMEOUT", "diff_within", "finite_difference_check",
           "central_difference", "FD_DIGITS", "FD_STEP"]

DEFAULT_VERIFY_TIMEOUT = 30.0  # seconds for sympy.diff before the DAG fallback takes over
FD_DIGITS = 50
FD_STEP = mpmath.mpf(10) ** -20  # truncation error ~h² = 1e-40, rounding ~1e-50/h = 1e-30
FD_TOLERANCE = mpmath.mpf(10) ** -20  # relative; both errors are far below it
SEED = 20261129
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
        return sp.diff(expr, symbol)
    if timeout <= 0:
        return None  # no time at all: not even a quick try
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = sp.diff(expr, symbol)
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
                       step: Any = FD_STEP) -> Any:
    """(loss(w + h) − loss(w − h)) / 2h on the DAG at `values` (call inside workdps)."""
    sym = net.symbols
    alg = MPAlgebra()
    base = forward(net.graph.order, net.exprs, sym, values, alg)[sym[weight]]
    if isinstance(base, NoValue):
        return base
    sides = []
    for sign in (1, -1):
        env = forward(net.graph.order, net.exprs, sym, values, alg,
                      fixed={weight: base + sign * step})
        sides.append(env[sym[net.spec.loss]])
    for s in sides:
        if isinstance(s, NoValue):
            return s
    return (sides[0] - sides[1]) / (2 * step)


def finite_difference_check(net: Network, weight: str, sum_names: sp.Expr,
                            point: Mapping[str, Fraction | None] | None, why: str
                            ) -> Verification:
    """The sum over paths against central finite differences of the loss at 50 digits, at the
    spec's point (when every leaf has a value) and at three random points."""
    rng = random.Random(SEED)
    leaves = [*net.spec.inputs, *net.spec.params]  # a node as the weight is computed, then
    points: list[dict[str, Any]] = []                # perturbed by ±h with the rest held fixed
    if point and all(point.get(n) is not None for n in leaves):
        points.append({n: to_mpf(point[n]) for n in leaves})
    points += [{n: mpmath.mpf(rng.uniform(0.5, 1.5)) for n in leaves} for _ in range(3)]
    sym = net.symbols
    worst = mpmath.mpf(0)
    used = 0
    with mpmath.workdps(FD_DIGITS):
        alg = MPAlgebra()
        for values in points:
            env = forward(net.graph.order, net.exprs, sym, values, alg)
            lhs = evaluate(sum_names, env, alg)
            rhs = central_difference(net, weight, values)
            if isinstance(lhs, NoValue) or isinstance(rhs, NoValue):
                continue
            used += 1
            diff = abs(lhs - rhs) / max(mpmath.mpf(1), abs(rhs))
            if diff > FD_TOLERANCE:
                return Verification(
                    False, "finite-difference",
                    f"{why}; the sum over paths and a central finite difference of the loss "
                    f"DIFFER: {mpmath.nstr(lhs, 12)} ≠ {mpmath.nstr(rhs, 12)} at a test point")
            worst = max(worst, diff)
    if not used:
        return Verification(False, "none", f"{why}; could not verify: the sum over paths or the "
                                           "loss is undefined at every test point")
    return Verification(
        True, "finite-difference",
        f"{why}; checked instead by central finite differences of the composed loss on its "
        f"DAG ({FD_DIGITS}-digit mpmath, h = 1e-20) at {used} point{'s' if used != 1 else ''}: "
        f"largest relative difference {mpmath.nstr(worst, 3) if worst else '0'}",
        float(worst) or None)
