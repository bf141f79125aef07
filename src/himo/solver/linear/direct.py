"""The direct solve of the evaluation systems: one sparse LU, two triangular solves.

With ``A = I - lambda T_pi`` in CSC form (:meth:`himo.mdp.MDP.system_matrix`),
SuperLU factorizes ``P_r A P_c = L U`` once (SciPy's defaults: COLAMD column
ordering, partial pivoting), and the same factors solve both systems of an
evaluation, ``A V = r_pi`` and, transposed, ``A^T d = p0``. Its cost does not depend
on the foresight but on how much ``L + U`` fills in (what ``auto`` weighs above
foresight 0.99, :mod:`himo.solver.linear.choice`). The solution is backward stable
and is not checked; it is the ``direct`` setting, the default on the paper's
environments, and the fallback of an iterative solve that misses its bound
(:class:`~himo.solver.linear.solver.LinearSolver`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def solve_directly(A: sp.csc_matrix, r_pi: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V, d)`` from one sparse LU of ``A``: ``A V = r_pi``, ``A^T d = p0``."""
    return lu_solutions(spla.splu(A), r_pi, p0)


def lu_solutions(lu: spla.SuperLU, r_pi: np.ndarray, p0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V, d)`` from the LU ``lu`` of ``A``: ``A V = r_pi``, ``A^T d = p0``."""
    return lu.solve(r_pi), lu.solve(p0, trans="T")
