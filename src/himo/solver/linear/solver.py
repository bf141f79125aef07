"""The linear solver of one run: each evaluation's two systems, by the chosen route, with a fallback and a record.

A HIMO run holds one :class:`LinearSolver` (:func:`himo.solver.loop.run_himo`) and
hands it the systems of every evaluation (:func:`himo.solver.evaluation.evaluate`).
It solves them by the route :mod:`himo.solver.linear.choice` chose: by LU
(:mod:`himo.solver.linear.direct`), by warm-started BiCGSTAB
(:mod:`himo.solver.linear.krylov`, starting from the run's previous solutions, which
it keeps), or, for ``auto`` above foresight 0.99, first by LU and then by the route
that LU's fill says.

**Fallback.** A system that BiCGSTAB has not solved to the residual bound within
:data:`~himo.solver.linear.krylov.KRYLOV_BUDGET` iterations (or on which it breaks
down) is solved directly instead, and counted. :class:`LinearSolveRecord` keeps, per
run, how many systems each solver solved, the fallbacks, the Krylov iterations and
the worst relative residual of the iterative path's solutions; the trajectory
stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from himo.errors import ParameterError
from himo.solver.linear.choice import (
    AUTO_FILL_PER_KRYLOV_ITERATION,
    DECIDED_BY_FILL,
    choose_linear_solver,
    expected_krylov_iterations,
    fill_ratio,
)
from himo.solver.linear.direct import lu_solutions, solve_directly
from himo.solver.linear.kernels import Operator, SystemRows, max_abs, sum_abs
from himo.solver.linear.krylov import (
    KRYLOV_BUDGET,
    RECYCLED_SOLUTIONS,
    RESIDUAL_BOUND,
    Workspace,
    warm_started_bicgstab,
)


# ------------------------------------------------------------------ the record
@dataclass
class LinearSolveRecord:
    """What the linear solves of one run did (two systems per evaluation)."""

    direct: int = 0  # systems solved by LU by choice
    iterative: int = 0  # systems solved by BiCGSTAB to the bound
    fallback: int = 0  # systems BiCGSTAB left unsolved in its budget, then solved by LU
    krylov_iterations: int = 0  # BiCGSTAB iterations, the fallbacks' included
    #: The largest relative residual (the norms of :mod:`himo.solver.linear.krylov`)
    #: of the solutions of the iterative path, fallbacks included; ``None`` when it
    #: never ran (a direct LU solve is backward stable and is not checked).
    worst_residual: float | None = None
    budget: int = KRYLOV_BUDGET  # the fallback's trigger
    #: ``nnz(L + U) / nnz(A)`` of the first LU, where ``auto`` decided by it (else ``None``).
    fill_ratio: float | None = None
    decision: str = ""  # how auto decided by the fill, in words

    def add(self, residual: float) -> None:
        self.worst_residual = residual if self.worst_residual is None else max(self.worst_residual, residual)

    @property
    def used(self) -> str:
        """``"direct"``, ``"iterative"``, or ``"iterative+direct"`` when some fell back."""
        if self.fallback:
            return "iterative+direct"
        return "iterative" if self.iterative else "direct"

    def summary(self) -> str:
        """One line: how many systems each solver solved."""
        parts = []
        if self.direct:
            parts.append(f"{self.direct} direct (sparse LU)")
        if self.iterative or self.fallback:
            parts.append(f"{self.iterative} iterative (warm-started BiCGSTAB, {self.krylov_iterations} iterations)")
        if self.fallback:
            parts.append(
                f"{self.fallback} solved directly after BiCGSTAB missed the residual bound "
                f"{RESIDUAL_BOUND:g} in {self.budget} iterations"
            )
        return ", ".join(parts) + (f"; {self.decision}" if self.decision else "") if parts else "none"


# ------------------------------------------------------------------ the solver
class LinearSolver:
    """Solves the evaluation systems of consecutive policies of one run.

    ``choice`` is ``"direct"``, ``"iterative"`` or
    :data:`~himo.solver.linear.choice.DECIDED_BY_FILL` (see
    :func:`~himo.solver.linear.choice.choose_linear_solver`; the last solves the
    first systems by LU and then becomes one of the others by the LU's fill, at
    foresight ``lam``). With ``"iterative"`` each solve starts from the previous
    solutions (:func:`~himo.solver.linear.krylov.starting_point`), is accepted at
    ``bound`` (:data:`~himo.solver.linear.krylov.RESIDUAL_BOUND`), and falls back to
    the LU after ``budget`` (:data:`~himo.solver.linear.krylov.KRYLOV_BUDGET`)
    iterations; its products run on the CSR form of ``A``
    (:class:`~himo.solver.linear.kernels.SystemRows`) and on ``A^T`` as the CSC
    reading of the same arrays, in scratch vectors kept for the run
    (:class:`~himo.solver.linear.krylov.Workspace`). :attr:`record` tallies the solves.
    """

    def __init__(self, choice: str, budget: int | None = None, bound: float = RESIDUAL_BOUND,
                 lam: float | None = None):
        if choice not in ("direct", "iterative", DECIDED_BY_FILL):
            raise ParameterError(f"a LinearSolver is direct, iterative or {DECIDED_BY_FILL}, got {choice!r}")
        if choice == DECIDED_BY_FILL and lam is None:
            raise ParameterError("a LinearSolver decided by the fill needs the foresight lam")
        self.choice, self.bound, self.lam = choice, bound, lam
        self.budget = KRYLOV_BUDGET if budget is None else budget
        self.record = LinearSolveRecord(budget=self.budget)
        self._history: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])  # values, occupancy
        self._scratch: Workspace | None = None
        self._rows = SystemRows()

    def system_matrix(self, mdp, policy: np.ndarray, lam: float) -> sp.spmatrix:
        """``I - lambda T_pi`` of ``mdp`` (a :class:`himo.mdp.MDP`) in the form this
        solver works on: CSC for the LU (:meth:`~himo.mdp.MDP.system_matrix`), CSR for
        BiCGSTAB (:class:`~himo.solver.linear.kernels.SystemRows`)."""
        if self.choice == "iterative":
            return self._rows.matrix(mdp.state_transitions(policy), lam)
        return mdp.system_matrix(policy, lam)

    def solve(self, A: sp.spmatrix, r_pi: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(V, d)`` with ``A V = r_pi`` and ``A^T d = p0`` (the start distribution),
        ``A`` in CSC or CSR form (:meth:`system_matrix` gives the one that suits)."""
        if self.choice == DECIDED_BY_FILL:
            return self._decide_by_fill(A, r_pi, p0)
        if self.choice == "direct":
            self.record.direct += 2
            return solve_directly(A, r_pi, p0)
        A = A if A.format == "csr" else sp.csr_matrix(A)  # (CSR: what system_matrix gives this solver)
        systems = (
            _System(Operator(A), r_pi, max_abs, self._history[0], transposed=False),
            _System(Operator(A, transposed=True), p0, sum_abs, self._history[1], transposed=True),
        )
        for system in systems:  # one after the other, in the same scratch vectors
            self._iterate(system, self._workspace(A.shape[0]))
        unsolved = [system for system in systems if system.solution is None]
        if unsolved:
            lu = spla.splu(A.tocsc())
            for system in unsolved:
                system.solution = lu.solve(system.rhs, trans="T" if system.transposed else "N")
                self.record.add(system.relative_residual(system.solution))
        for system in systems:
            system.history[:] = system.history[-(RECYCLED_SOLUTIONS - 1):] + [system.solution]
        return systems[0].solution, systems[1].solution

    def _decide_by_fill(self, A: sp.csc_matrix, r_pi: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The first solve of ``auto`` above
        :data:`~himo.solver.linear.choice.AUTO_MAX_FORESIGHT`: one LU, whose fill ratio
        chooses the solver of the rest of the run (see
        :func:`~himo.solver.linear.choice.choose_linear_solver`); its solutions start
        the iterative one."""
        lu = spla.splu(A)
        value, occupancy = lu_solutions(lu, r_pi, p0)
        self.record.direct += 2
        fill = fill_ratio(lu, A)
        self.choice = choose_linear_solver("auto", A.shape[0], self.lam, fill=fill)
        threshold = AUTO_FILL_PER_KRYLOV_ITERATION * expected_krylov_iterations(self.lam)
        self.record.fill_ratio = fill
        self.record.decision = (
            f"auto chose {self.choice} after the first LU: fill ratio nnz(L+U)/nnz(A) {fill:.3g} "
            f"{'>=' if self.choice == 'iterative' else '<'} {threshold:.3g} at foresight {self.lam:g}"
        )
        self._history[0].append(value)
        self._history[1].append(occupancy)
        return value, occupancy

    def _workspace(self, n: int) -> Workspace:
        """The scratch vectors of the solves, allocated once per run (and size)."""
        if self._scratch is None or self._scratch.n != n:
            self._scratch = Workspace(n)
        return self._scratch

    def _iterate(self, system: _System, workspace: Workspace) -> None:
        scale = system.norm(system.rhs)
        if scale == 0.0:  # b = 0: x = 0, exactly
            system.solution = np.zeros_like(system.rhs)
            self.record.iterative += 1
            return
        tolerance = self.bound * scale
        result = warm_started_bicgstab(system.matrix, system.rhs, system.history, tolerance, system.norm,
                                       self.budget, workspace)
        self.record.krylov_iterations += result.iterations
        if result.converged:
            system.solution = result.x
            self.record.iterative += 1
            self.record.add(result.residual / scale)
        else:
            self.record.fallback += 1


@dataclass
class _System:
    """One of an evaluation's two systems, ``matrix x = rhs``, as the iterative path
    works on it: the norm of its bound and the previous policies' solutions."""

    matrix: Operator
    rhs: np.ndarray
    norm: Callable[[np.ndarray], float]
    history: list[np.ndarray]  # the previous policies' solutions, the latest last
    transposed: bool
    solution: np.ndarray | None = None

    def relative_residual(self, x: np.ndarray) -> float:
        scale = self.norm(self.rhs)
        return self.norm(self.rhs - self.matrix @ x) / scale if scale else 0.0
