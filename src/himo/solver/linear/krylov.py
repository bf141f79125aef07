"""The iterative solve of one evaluation system: warm-started BiCGSTAB, accepted on a residual bound.

BiCGSTAB (van der Vorst 1992, :func:`bicgstab`) solves ``A x = b`` for
``A = I - lambda T_pi`` with two products with the sparse ``A`` per iteration and a
few vector updates: no factorization and no fill-in. It starts from the previous
iterations' solutions (:func:`starting_point`): consecutive policies of a HIMO run
differ by one small step, and so do their solutions (a *warm start*).
:func:`warm_started_bicgstab` is the two together, in the scratch vectors of a
:class:`Workspace` kept for the run.

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
the values' bound, times ``lambda`` and ``2 lambda``.) A system not solved to the
bound within :data:`KRYLOV_BUDGET` iterations is reported unconverged; the run's
:class:`~himo.solver.linear.solver.LinearSolver` then solves it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from himo.solver.linear.kernels import Operator, as_operator, axpy, dot

#: Relative residual every iterative solve must meet (see the module docstring).
RESIDUAL_BOUND = 1e-12
#: BiCGSTAB iterations (two products with ``A`` each) per system before the fallback.
KRYLOV_BUDGET = 1000
#: The warm start is the best combination of this many previous solutions.
RECYCLED_SOLUTIONS = 4


class Workspace:
    """The vectors one BiCGSTAB solve of size ``n`` works in, reused from solve to solve."""

    def __init__(self, n: int):
        self.n = n
        self.r, self.r_hat, self.p, self.v, self.t = (np.empty(n) for _ in range(5))
        self.images = [np.empty(n) for _ in range(RECYCLED_SOLUTIONS - 1)]


def warm_started_bicgstab(
    A: Operator, b: np.ndarray, history: list[np.ndarray], tolerance: float,
    norm: Callable[[np.ndarray], float], budget: int, workspace: Workspace,
) -> KrylovResult:
    """:func:`bicgstab` from :func:`starting_point`, in ``workspace``, the start's
    residual handed on (so that BiCGSTAB need not compute it again)."""
    start = _start(A, b, history, tolerance, norm, workspace)
    return _bicgstab(A, b, start, tolerance, norm, budget, workspace)


# ------------------------------------------------------------------ the warm start
def starting_point(
    A, b: np.ndarray, history: list[np.ndarray], tolerance: float, norm: Callable[[np.ndarray], float],
    workspace: Workspace | None = None,
) -> np.ndarray:
    """Where BiCGSTAB starts: the latest solution ``x_1`` of ``history`` (a warm start),
    improved by the previous ones where that helps.

    Along a HIMO run the solutions move smoothly, so ``x_1`` is off mostly along the
    recent moves ``D_i = x_1 - x_{i+1}``. The start is ``x_1 + sum_i c_i D_i`` with the
    ``c`` that minimizes ``||b - A x||_2`` (normal equations of ``A D``, at the cost of
    one product with ``A`` per ``D_i``), kept only if its residual is smaller in
    ``norm``. Typically this saves a quarter of the Krylov iterations of the values
    system; it changes nothing but where the iteration starts. ``A`` is a sparse
    matrix or an :class:`~himo.solver.linear.kernels.Operator`.
    """
    return _start(as_operator(A), b, history, tolerance, norm, workspace or Workspace(b.size)).x


@dataclass(frozen=True)
class _Start:
    x: np.ndarray
    #: ``b - A x`` in ``workspace.r`` when ``exact`` (computed from ``x``), or as
    #: updated along with ``x`` (exact but for rounding); ``None``: not at hand.
    residual: np.ndarray | None = None
    exact: bool = False


def _start(A: Operator, b, history, tolerance, norm, workspace: Workspace) -> _Start:
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
        axpy(start, -c, older)
        axpy(residual, -c, image)
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
    workspace: Workspace | None = None,
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
    is a sparse matrix or an :class:`~himo.solver.linear.kernels.Operator`; the
    vectors live in ``workspace`` (reused from solve to solve), all but the returned
    ``x``.
    """
    A = as_operator(A)
    work = workspace or Workspace(b.size)
    return _bicgstab(A, b, _Start(np.array(x0, dtype=float)), tolerance, norm, budget, work)


def _bicgstab(A: Operator, b, start: _Start, tolerance, norm, budget, work: Workspace) -> KrylovResult:
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
        axpy(x, alpha, p)
        axpy(r, -alpha, v)  # r is now s = r - alpha v, untested: the second half-step
        A.apply(r, t)  # only lowers ||r||_2, and a test costs two passes over r
        tt = dot(t, t)
        if tt == 0.0:
            break
        omega = dot(t, r) / tt
        axpy(x, omega, r)
        axpy(r, -omega, t)
        if norm(r) <= tolerance or omega == 0.0:
            break
        rho_next = dot(r_hat, r)
        if rho_next == 0.0 or not np.isfinite(rho_next):
            break
        beta = (rho_next / rho) * (alpha / omega)
        rho = rho_next
        axpy(p, -omega, v)  # p = r + beta (p - omega v)
        p *= beta
        p += r
    return iterations
