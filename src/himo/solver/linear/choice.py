"""The ``linear_solver`` setting and ``auto``'s choice between the direct and the iterative solve.

The setting takes one of :data:`LINEAR_SOLVERS`: ``direct`` (sparse LU,
:mod:`himo.solver.linear.direct`), ``iterative`` (warm-started BiCGSTAB,
:mod:`himo.solver.linear.krylov`) or ``auto``, which :func:`choose_linear_solver`
resolves by a fixed rule on the problem, never on timing (so that a run's solver,
and its bytes, do not depend on the machine's load):

- below :data:`AUTO_MIN_STATES` states, ``direct``: the factorization is cheap and
  the Krylov loop's fixed Python cost is not;
- up to foresight :data:`AUTO_MAX_FORESIGHT`, ``iterative``: measured well below the
  LU floor on large grids and below or at it on Hanoi towers (benchmarks/RESULTS.md);
- above it, *the fill rule*: BiCGSTAB then needs hundreds of iterations per
  evaluation (:func:`expected_krylov_iterations`, growing like
  ``1 / sqrt(1 - lambda)``) while the LU's cost does not depend on the foresight.
  What decides is how costly the LU is against a product with ``A``, its fill ratio
  ``nnz(L + U) / nnz(A)`` (:func:`fill_ratio`), known only once the first system is
  factorized: the answer is then :data:`DECIDED_BY_FILL`, and the run's
  :class:`~himo.solver.linear.solver.LinearSolver` asks again with the fill.
"""

from __future__ import annotations

import typing
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from himo.solver.linear.krylov import KRYLOV_BUDGET, RESIDUAL_BOUND

# ------------------------------------------------------------------ the setting
#: The choices of the ``linear_solver`` setting, which :class:`himo.solver.settings.SolverSettings`
#: defines (with its default and :data:`LINEAR_SOLVER_HELP`); ``himo.solve``,
#: ``himo solve --linear-solver`` and the workflow's config schema derive from it.
LinearSolverName = Literal["auto", "direct", "iterative"]
LINEAR_SOLVERS: tuple[str, ...] = typing.get_args(LinearSolverName)
#: ``auto`` picks ``iterative`` from this many states up ...
AUTO_MIN_STATES = 5_000
#: ... and up to this foresight (see :func:`choose_linear_solver`); above it, ...
AUTO_MAX_FORESIGHT = 0.99
#: ... where the LU's fill ratio ``nnz(L + U) / nnz(A)`` is at least this many
#: times the Krylov iterations an evaluation is expected to need
#: (:func:`expected_krylov_iterations`).
AUTO_FILL_PER_KRYLOV_ITERATION = 0.05
LINEAR_SOLVER_HELP = (
    "how each iteration solves its two linear systems (values and occupancy): "
    f"direct (sparse LU), iterative (warm-started BiCGSTAB, checked to a relative residual of "
    f"{RESIDUAL_BOUND:g}, direct where it does not converge in {KRYLOV_BUDGET} iterations), or auto "
    f"(iterative from {AUTO_MIN_STATES:,} states up at foresight up to {AUTO_MAX_FORESIGHT:g}, where "
    "it is faster; above that foresight the first evaluation's LU decides: iterative where it fills in "
    "much, as on large grids; else direct); every choice gives the same iterates to 1e-9 and the "
    "trajectory records which one ran"
)
#: What :func:`choose_linear_solver` answers when the first system's LU must decide.
DECIDED_BY_FILL = "fill"


def choose_linear_solver(name: LinearSolverName, n_states: int, lam: float, fill: float | None = None) -> str:
    """``"direct"`` or ``"iterative"``: the setting ``name`` (checked by
    :class:`~himo.solver.settings.SolverSettings`), with ``auto`` resolved; or
    :data:`DECIDED_BY_FILL` when ``auto`` needs the LU's fill ratio ``fill`` and it
    is not given.

    ``auto`` is a fixed rule on the problem (so that a run's solver, and its bytes,
    never depend on timing), read off benchmarks/RESULTS.md, where each solver's
    iteration is timed against the LU floor. Below :data:`AUTO_MIN_STATES` states
    the factorization is cheap and the Krylov loop's fixed Python cost is not:
    direct. Up to :data:`AUTO_MAX_FORESIGHT`, iterative, which measured well below
    the floor on large grids and below or at it on Hanoi towers.

    Above it BiCGSTAB needs hundreds of iterations (their number grows like
    ``1 / sqrt(1 - lambda)``, :func:`expected_krylov_iterations`) while the
    factorization's cost does not depend on the foresight, so what decides is how
    costly the LU is against a product with ``A``: its fill ratio
    ``fill = nnz(L + U) / nnz(A)``. An LU solve costs about ``fill`` products
    and the factorization more; an iterative evaluation costs about two products per
    Krylov iteration. A grid's LU fills in (its separators grow like
    ``sqrt(n_states)``: ``fill`` 13 at 100 x 100, 23 at 500 x 500) and a Hanoi
    tower's hardly does (tiny separators: ``fill`` 2.8 at any size), which no rule on
    size and foresight can tell apart. ``auto`` therefore factorizes the first
    system (which solves the first evaluation, as direct would) and takes iterative
    for the rest of the run when ``fill >=`` :data:`AUTO_FILL_PER_KRYLOV_ITERATION`
    ``* expected_krylov_iterations(lam)``.
    """
    if name != "auto":
        return name
    if n_states < AUTO_MIN_STATES:
        return "direct"
    if lam <= AUTO_MAX_FORESIGHT:
        return "iterative"
    if fill is None:
        return DECIDED_BY_FILL
    return "iterative" if fill >= AUTO_FILL_PER_KRYLOV_ITERATION * expected_krylov_iterations(lam) else "direct"


def fill_ratio(lu: spla.SuperLU, A: sp.spmatrix) -> float:
    """``nnz(L + U) / nnz(A)``: how much the LU ``lu`` of ``A`` fills in."""
    return (lu.L.nnz + lu.U.nnz) / max(A.nnz, 1)


def expected_krylov_iterations(lam: float) -> float:
    """``10 / sqrt(1 - lambda)``: BiCGSTAB iterations per warm-started evaluation (both
    systems), the Krylov rule ``sqrt(condition)`` with condition ``1 / (1 - lambda)``,
    fitted to benchmarks/RESULTS.md (measured: 22-34 at 0.9, 76-118 at 0.99, 283-490
    at 0.999)."""
    return 10.0 / np.sqrt(1.0 - lam)
