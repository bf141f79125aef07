"""The two linear systems of exact policy evaluation, solved directly or iteratively.

Every HIMO iteration evaluates its policy exactly (:mod:`himo.solver.evaluation`)
by solving, with ``A = I - lambda T_pi``,

    A V = r_pi              values
    A^T d = p0              occupancy from the start distribution p0, d_i = D_0i

in one of two ways, the ``linear_solver`` setting (:data:`LINEAR_SOLVERS`):

``direct``
    one sparse LU of ``A`` (SuperLU, COLAMD ordering) and two triangular solves.
``iterative``
    BiCGSTAB (van der Vorst 1992), started from the previous iterations' ``V`` and
    ``d`` (a *warm start*), accepted only on a true residual that bounds the error to
    ``1e-12`` of the solution's scale; a system it leaves unsolved is solved directly.
``auto``
    ``iterative`` where it is measured to be faster, else ``direct``.

One module per job:

:mod:`~himo.solver.linear.choice`
    the setting, and ``auto``'s rule: size, foresight, and above foresight 0.99 the
    fill of the first LU (:func:`choose_linear_solver`);
:mod:`~himo.solver.linear.direct`
    the LU solve (:func:`solve_directly`);
:mod:`~himo.solver.linear.krylov`
    the warm-started BiCGSTAB solve of one system and the residual bound that makes
    it exact (:func:`bicgstab`, :func:`starting_point`, :data:`RESIDUAL_BOUND`);
:mod:`~himo.solver.linear.kernels`
    what the Krylov solve spends its time in: sparse products into reused vectors,
    the system in CSR form, blocked dot products (:class:`Operator`,
    :class:`SystemRows`, :func:`dot`);
:mod:`~himo.solver.linear.solver`
    the solver a run holds: the chosen route per evaluation, the fallback, the
    record the trajectory stores (:class:`LinearSolver`, :class:`LinearSolveRecord`).

Everything a caller needs is importable from here.
"""

from himo.solver.linear.choice import (
    AUTO_FILL_PER_KRYLOV_ITERATION,
    AUTO_MAX_FORESIGHT,
    AUTO_MIN_STATES,
    DECIDED_BY_FILL,
    LINEAR_SOLVER_HELP,
    LINEAR_SOLVERS,
    LinearSolverName,
    choose_linear_solver,
    expected_krylov_iterations,
    fill_ratio,
)
from himo.solver.linear.direct import solve_directly
from himo.solver.linear.kernels import DOT_BLOCK, Operator, SystemRows, dot
from himo.solver.linear.krylov import (
    KRYLOV_BUDGET,
    RECYCLED_SOLUTIONS,
    RESIDUAL_BOUND,
    KrylovResult,
    Workspace,
    bicgstab,
    starting_point,
)
from himo.solver.linear.solver import LinearSolver, LinearSolveRecord

__all__ = [
    "LinearSolverName", "LINEAR_SOLVERS", "LINEAR_SOLVER_HELP", "AUTO_MIN_STATES", "AUTO_MAX_FORESIGHT",
    "AUTO_FILL_PER_KRYLOV_ITERATION", "DECIDED_BY_FILL", "choose_linear_solver", "expected_krylov_iterations",
    "fill_ratio", "solve_directly", "RESIDUAL_BOUND", "KRYLOV_BUDGET", "RECYCLED_SOLUTIONS", "KrylovResult",
    "Workspace", "bicgstab", "starting_point", "Operator", "SystemRows", "DOT_BLOCK", "dot", "LinearSolver",
    "LinearSolveRecord",
]
