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
    ``d`` (:func:`starting_point`): consecutive policies differ by one small step,
    and so do their solutions (a *warm start*). No factorization and no fill-in:
    each Krylov iteration costs two products with the sparse ``A`` and a few
    vector updates.
``auto``
    ``iterative`` where it is measured to be faster, else ``direct``
    (:func:`choose_linear_solver`: from the size and the foresight, and above
    :data:`AUTO_MAX_FORESIGHT` from the fill of the first system's LU).

**The bound that keeps an iterative solution exact.** ``T_pi`` is row-stochastic,
so ``A^-1 = sum_k lambda^k T_pi^k`` is non-negative with every row summing to
``1 / (1 - lambda)``:

    ||A^-1||_inf = ||A^-T||_1 = 1 / (1 - lambda).

A candidate ``x`` with residual ``rho = b - A x`` is off by ``A^-1 rho``. An
iterative solve is accepted only when its *true* residual (recomputed from ``x``,
not the Krylov recurrence) meets :data:`RESIDUAL_BOUND` ``= 1e-12`` in the norm
that bounds its error:

    ||r_pi - A V||_inf <= 1e-12 ||r_pi||_inf   =>  ||V - V*||_inf <= 1e-12 ||r_pi||_inf / (1 - lambda)
    ||p0 - A^T d||_1   <= 1e-12                =>  ||d - d*||_1   <= 1e-12 / (1 - lambda)

(``||p0||_1 = 1``: a distribution, one-hot ``e_0`` for one start state.)
``||r_pi||_inf / (1 - lambda)`` bounds every ``|V_i|`` and ``1 / (1 - lambda)`` is
the total occupancy ``sum_i d_i``: each solution is exact to ``1e-12`` of its own
scale, whatever the foresight. (``Q = R + lambda P V`` and the advantages inherit
the values' bound, times ``lambda`` and ``2 lambda``.)

**Fallback.** A system that BiCGSTAB has not solved to the bound within
:data:`KRYLOV_BUDGET` iterations (or on which it breaks down) is solved directly
instead, and counted. :class:`LinearSolveRecord` keeps, per run, how many systems
each solver solved, the fallbacks, the Krylov iterations and the worst relative
residual of the iterative path's solutions; the trajectory stores it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import blas
from scipy.sparse import _sparsetools

from himo.errors import ParameterError

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
#: Relative residual every iterative solve must meet (see the module docstring).
RESIDUAL_BOUND = 1e-12
#: BiCGSTAB iterations (two products with ``A`` each) per system before the fallback.
KRYLOV_BUDGET = 1000
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


# ------------------------------------------------------------------ the record
@dataclass
class LinearSolveRecord:
    """What the linear solves of one run did (two systems per evaluation)."""

    direct: int = 0  # systems solved by LU by choice
    iterative: int = 0  # systems solved by BiCGSTAB to the bound
    fallback: int = 0  # systems BiCGSTAB left unsolved in its budget, then solved by LU
    krylov_iterations: int = 0  # BiCGSTAB iterations, the fallbacks' included
    #: The largest relative residual (the module docstring's norms) of the solutions
    #: of the iterative path, fallbacks included; ``None`` when it never ran (a
    #: direct LU solve is backward stable and is not checked).
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
def solve_directly(A: sp.csc_matrix, r_pi: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V, d)`` from one sparse LU of ``A``: ``A V = r_pi``, ``A^T d = p0``."""
    lu = spla.splu(A)
    return lu.solve(r_pi), lu.solve(p0, trans="T")


class LinearSolver:
    """Solves the evaluation systems of consecutive policies of one run.

    ``choice`` is ``"direct"``, ``"iterative"`` or :data:`DECIDED_BY_FILL` (see
    :func:`choose_linear_solver`; the last solves the first systems by LU and then
    becomes one of the others by the LU's fill, at foresight ``lam``). With
    ``"iterative"`` each solve starts from the previous solutions
    (:func:`starting_point`), is accepted at ``bound`` (:data:`RESIDUAL_BOUND`), and
    falls back to the LU after ``budget`` (:data:`KRYLOV_BUDGET`) iterations; its
    products run on the CSR form of ``A`` (:class:`SystemRows`) and on ``A^T`` as the
    CSC reading of the same arrays, in scratch vectors kept for the run
    (:class:`Workspace`). :attr:`record` tallies the solves.
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
        BiCGSTAB (:class:`SystemRows`)."""
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
            _System(Operator(A), r_pi, _max_abs, self._history[0], transposed=False),
            _System(Operator(A, transposed=True), p0, _sum_abs, self._history[1], transposed=True),
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
        """The first solve of ``auto`` above :data:`AUTO_MAX_FORESIGHT`: one LU, whose
        fill ratio chooses the solver of the rest of the run (see
        :func:`choose_linear_solver`); its solutions start the iterative one."""
        lu = spla.splu(A)
        value, occupancy = lu.solve(r_pi), lu.solve(p0, trans="T")
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

    def _workspace(self, n: int) -> "Workspace":
        """The scratch vectors of the solves, allocated once per run (and size)."""
        if self._scratch is None or self._scratch.n != n:
            self._scratch = Workspace(n)
        return self._scratch

    def _iterate(self, system: "_System", workspace: "Workspace") -> None:
        scale = system.norm(system.rhs)
        if scale == 0.0:  # b = 0: x = 0, exactly
            system.solution = np.zeros_like(system.rhs)
            self.record.iterative += 1
            return
        tolerance = self.bound * scale
        start = _start(system.matrix, system.rhs, system.history, tolerance, system.norm, workspace)
        result = _bicgstab(system.matrix, system.rhs, start, tolerance, system.norm, self.budget, workspace)
        self.record.krylov_iterations += result.iterations
        if result.converged:
            system.solution = result.x
            self.record.iterative += 1
            self.record.add(result.residual / scale)
        else:
            self.record.fallback += 1


@dataclass
class _System:
    matrix: "Operator"
    rhs: np.ndarray
    norm: Callable[[np.ndarray], float]
    history: list[np.ndarray]  # the previous policies' solutions, the latest last
    transposed: bool
    solution: np.ndarray | None = None

    def relative_residual(self, x: np.ndarray) -> float:
        scale = self.norm(self.rhs)
        return self.norm(self.rhs - self.matrix @ x) / scale if scale else 0.0


# ------------------------------------------------------------------ products
class Operator:
    """``x -> A x`` (or ``A^T x``) of a sparse square matrix, into a vector the caller
    owns.

    A Krylov solve spends most of its time in these products; ``A @ x`` allocates
    its result every time, and on a large system the fresh pages cost as much as a
    third of the product (measured on 12-disk Hanoi: 6.5 ms against 4.2 ms). Here
    the product runs SciPy's own kernel (``csr_matvec`` / ``csc_matvec``, what
    ``A @ x`` calls) into a reused vector. ``A^T`` of a CSC matrix is the CSR matrix
    with the same three arrays: no transpose is formed.
    """

    def __init__(self, A: sp.spmatrix, transposed: bool = False):
        if A.format not in ("csr", "csc"):
            A = A.tocsr()
        A = A if A.dtype == np.float64 else A.astype(np.float64)
        self.n = A.shape[0]
        self.matrix = A.T if transposed else A
        reads_rows = (A.format == "csr") != transposed  # the arrays are CSR of the operator
        self._kernel = _sparsetools.csr_matvec if reads_rows else _sparsetools.csc_matvec
        self._arrays = (A.indptr, A.indices, A.data)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        return self.apply(x, np.empty(self.n))

    def apply(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = A x`` (``out`` must not be ``x``)."""
        out.fill(0.0)
        self._kernel(self.n, self.n, *self._arrays, np.ascontiguousarray(x, dtype=np.float64), out)
        return out

    def residual(self, b: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = b - A x``."""
        self.apply(x, out)
        return np.subtract(b, out, out=out)


class SystemRows:
    """``A = I - lambda T`` in CSR form, from ``T`` in CSR form, for consecutive ``T``
    of one sparsity pattern: what BiCGSTAB works on.

    A product with a CSR matrix (reading ``x`` where the row's entries point, writing
    each ``y_i`` once) is faster than with the CSC form the LU takes (measured 2.2 ms
    against 2.6 ms on 12-disk Hanoi), the values system takes about fifty per
    evaluation, and ``A^T`` is the CSC reading of the same arrays. The pattern of
    ``A`` (``T``'s and the diagonal) is worked out once, and again only if ``T``'s
    changes; each matrix then costs one pass over ``T``'s entries. The entries are
    :meth:`himo.mdp.MDP.system_matrix`'s, bit for bit (``1 - lambda T_ii`` on the
    diagonal, ``-(lambda T_ij)`` off it).
    """

    def __init__(self):
        self._t_indptr = self._t_indices = None  # the pattern of T the rest is for
        self._indptr = self._indices = self._of_t = self._diagonal = None

    def matrix(self, T: sp.csr_matrix, lam: float) -> sp.csr_matrix:
        if not T.has_canonical_format:  # (MDP.state_transitions gives sorted rows, no duplicates)
            T = T.copy()
            T.sum_duplicates()
        if not (self._t_indptr is not None and np.array_equal(T.indptr, self._t_indptr)
                and np.array_equal(T.indices, self._t_indices)):
            self._pattern(T)
        if self._of_t is None:  # A has T's pattern (T has every diagonal entry)
            data = lam * T.data
        else:
            data = np.zeros(self._indices.size)
            data[self._of_t] = lam * T.data
        np.negative(data, out=data)
        data[self._diagonal] += 1.0
        return sp.csr_matrix((data, self._indices, self._indptr), shape=T.shape)

    def _pattern(self, T: sp.csr_matrix) -> None:
        """``A``'s pattern: ``T``'s (sorted, row-major keys ``i n + j``) with the missing
        diagonal entries merged in, and where ``T``'s entries and the diagonal sit in it."""
        n = T.shape[0]
        t_keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(T.indptr)) * n + T.indices
        diagonal = np.arange(n, dtype=np.int64) * (n + 1)
        at = np.searchsorted(t_keys, diagonal)
        present = at < t_keys.size
        present[present] = t_keys[at[present]] == diagonal[present]
        missing = diagonal[~present]
        keys = np.insert(t_keys, at[~present], missing)  # still sorted
        rows, columns = np.divmod(keys, n)
        index = T.indices.dtype
        self._indptr = np.searchsorted(rows, np.arange(n + 1)).astype(index)
        self._indices = columns.astype(index)
        self._of_t = np.arange(t_keys.size) + np.searchsorted(missing, t_keys) if missing.size else None
        self._diagonal = np.searchsorted(keys, diagonal)
        self._t_indptr, self._t_indices = T.indptr.copy(), T.indices.copy()


def _as_operator(A) -> Operator:
    return A if isinstance(A, Operator) else Operator(sp.csr_matrix(A) if not sp.issparse(A) else A)


class Workspace:
    """The vectors one BiCGSTAB solve of size ``n`` works in, reused from solve to solve."""

    def __init__(self, n: int):
        self.n = n
        self.r, self.r_hat, self.p, self.v, self.t = (np.empty(n) for _ in range(5))
        self.images = [np.empty(n) for _ in range(RECYCLED_SOLUTIONS - 1)]


#: The warm start is the best combination of this many previous solutions.
RECYCLED_SOLUTIONS = 4


def starting_point(
    A, b: np.ndarray, history: list[np.ndarray], tolerance: float, norm: Callable[[np.ndarray], float],
    workspace: "Workspace | None" = None,
) -> np.ndarray:
    """Where BiCGSTAB starts: the latest solution ``x_1`` of ``history`` (a warm start),
    improved by the previous ones where that helps.

    Along a HIMO run the solutions move smoothly, so ``x_1`` is off mostly along the
    recent moves ``D_i = x_1 - x_{i+1}``. The start is ``x_1 + sum_i c_i D_i`` with the
    ``c`` that minimizes ``||b - A x||_2`` (normal equations of ``A D``, at the cost of
    one product with ``A`` per ``D_i``), kept only if its residual is smaller in
    ``norm``. Typically this saves a quarter of the Krylov iterations of the values
    system; it changes nothing but where the iteration starts. ``A`` is a sparse
    matrix or an :class:`Operator`.
    """
    return _start(_as_operator(A), b, history, tolerance, norm, workspace or Workspace(b.size)).x


@dataclass(frozen=True)
class _Start:
    x: np.ndarray
    #: ``b - A x`` in ``workspace.r`` when ``exact`` (computed from ``x``), or as
    #: updated along with ``x`` (exact but for rounding); ``None``: not at hand.
    residual: np.ndarray | None = None
    exact: bool = False


def _start(A: "Operator", b, history, tolerance, norm, workspace: "Workspace") -> _Start:
    """:func:`starting_point`, with the start's residual where it is at hand (so that
    BiCGSTAB need not compute it again)."""
    if not history:
        return _Start(np.zeros_like(b))
    latest = history[-1]
    residual = A.residual(b, latest, workspace.r)
    plain = norm(residual)
    if len(history) < 2 or plain <= tolerance:
        return _Start(latest.copy(), residual, exact=True)
    images = workspace.images[:len(history) - 1]
    for older, image in zip(history[:-1], images):  # A D_i = A x_1 - A x_{i+1} = (b - A x_{i+1}) - residual
        A.residual(b, older, image)
        image -= residual
    gram = np.array([[dot(u, v) for v in images] for u in images])
    projections = np.array([dot(u, residual) for u in images])
    coefficients = np.linalg.lstsq(gram, projections, rcond=1e-13)[0]
    start = latest * (1.0 + coefficients.sum())  # x_1 + sum_i c_i (x_1 - x_{i+1})
    for c, older, image in zip(coefficients, history[:-1], images):
        _axpy(start, -c, older)
        _axpy(residual, -c, image)
    if norm(residual) < plain:
        return _Start(start, residual, exact=False)
    return _Start(latest.copy())  # (its residual has been overwritten)


# ------------------------------------------------------------------ BiCGSTAB
@dataclass(frozen=True)
class KrylovResult:
    x: np.ndarray
    converged: bool  # the true residual met the tolerance
    iterations: int
    residual: float  # norm of the true residual b - A x


def bicgstab(
    A,
    b: np.ndarray,
    x0: np.ndarray,
    tolerance: float,
    norm: Callable[[np.ndarray], float],
    budget: int,
    workspace: "Workspace | None" = None,
) -> KrylovResult:
    """BiCGSTAB for ``A x = b`` from ``x0``, until ``norm(b - A x) <= tolerance``.

    Unpreconditioned BiCGSTAB (van der Vorst 1992): each iteration takes two
    products with ``A``, one for the bi-conjugate gradient half-step along ``p`` and
    one for the minimal-residual half-step along ``s``. Convergence is tested after
    each iteration on the recursively updated residual; when it says converged, the
    true residual ``b - A x`` is computed and decides.
    If they disagree (rounding has made the recurrence drift), or on a breakdown
    (``rhat . v = 0``, ``omega = 0``), the method restarts from the current ``x``
    with the true residual. At most ``budget`` iterations are taken in all. ``A``
    is a sparse matrix or an :class:`Operator`; the vectors live in ``workspace``
    (reused from solve to solve), all but the returned ``x``.
    """
    A = _as_operator(A)
    work = workspace or Workspace(b.size)
    return _bicgstab(A, b, _Start(np.array(x0, dtype=float)), tolerance, norm, budget, work)


def _bicgstab(A: "Operator", b, start: _Start, tolerance, norm, budget, work: "Workspace") -> KrylovResult:
    """:func:`bicgstab` from ``start`` (whose ``x`` it updates in place), using the
    start's residual where it has one; convergence is declared only on a residual
    computed from ``x``."""
    x = start.x
    r = start.residual if start.residual is not None else A.residual(b, x, work.r)
    residual = norm(r)
    if residual <= tolerance and not start.exact:
        r = A.residual(b, x, work.r)
        residual = norm(r)
    iterations = 0
    while residual > tolerance and iterations < budget and np.isfinite(residual):
        iterations = _bicgstab_cycle(A, x, work, tolerance, norm, budget, iterations)
        r = A.residual(b, x, work.r)
        residual = norm(r)
    return KrylovResult(x=x, converged=bool(residual <= tolerance), iterations=iterations, residual=float(residual))


def _bicgstab_cycle(A: Operator, x, work: Workspace, tolerance, norm, budget, iterations) -> int:
    """One run of BiCGSTAB from the current ``x`` and its true residual ``work.r``,
    updating both in place until the recurrence says converged, it breaks down, or
    the budget is spent; returns the iteration count so far."""
    r, r_hat, p, v, t = work.r, work.r_hat, work.p, work.v, work.t
    np.copyto(r_hat, r)  # the shadow residual
    np.copyto(p, r)
    rho = dot(r_hat, r)
    while iterations < budget:
        iterations += 1
        A.apply(p, v)
        sigma = dot(r_hat, v)
        if sigma == 0.0 or not np.isfinite(sigma):
            break
        alpha = rho / sigma
        _axpy(x, alpha, p)
        _axpy(r, -alpha, v)  # r is now s = r - alpha v, untested: the second half-step
        A.apply(r, t)  # only lowers ||r||_2, and a test costs two passes over r
        tt = dot(t, t)
        if tt == 0.0:
            break
        omega = dot(t, r) / tt
        _axpy(x, omega, r)
        _axpy(r, -omega, t)
        if norm(r) <= tolerance or omega == 0.0:
            break
        rho_next = dot(r_hat, r)
        if rho_next == 0.0 or not np.isfinite(rho_next):
            break
        beta = (rho_next / rho) * (alpha / omega)
        rho = rho_next
        _axpy(p, -omega, v)  # p = r + beta (p - omega v)
        p *= beta
        p += r
    return iterations


# -------------------------------------------------------- vector operations
#: Dot products and ``axpy`` run on blocks of this many entries: OpenBLAS runs a
#: longer ``ddot`` or ``daxpy`` on several threads, which on a loaded machine wait
#: for a free core for milliseconds at every call (measured: 16 ms instead of
#: 0.05 ms for a ``ddot`` of 250,000 entries on 2 busy cores). Blocks this short
#: run on one thread.
DOT_BLOCK = 8192


def dot(x: np.ndarray, y: np.ndarray) -> float:
    """``x . y`` of two contiguous vectors, in single-threaded blocks."""
    whole = x.size - x.size % DOT_BLOCK
    total = float(np.dot(x[whole:], y[whole:]))
    if whole:
        total += float(np.vecdot(x[:whole].reshape(-1, DOT_BLOCK), y[:whole].reshape(-1, DOT_BLOCK)).sum())
    return total


def _axpy(y: np.ndarray, a: float, x: np.ndarray) -> None:
    """``y += a x`` in place: BLAS ``daxpy`` (one pass, no temporary) on single-threaded blocks."""
    for start in range(0, y.size, DOT_BLOCK):
        blas.daxpy(x[start:start + DOT_BLOCK], y[start:start + DOT_BLOCK], a=a)


def _max_abs(v: np.ndarray) -> float:
    return float(max(v.max(), -v.min())) if v.size else 0.0


def _sum_abs(v: np.ndarray) -> float:
    return float(np.abs(v).sum())
