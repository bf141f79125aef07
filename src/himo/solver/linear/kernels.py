"""The kernels the iterative solve spends its time in: sparse products, the CSR system, vector passes.

A BiCGSTAB iteration (:mod:`himo.solver.linear.krylov`) is two products with the
sparse ``A = I - lambda T_pi`` and about a dozen passes over state vectors; on a
large MDP nothing else counts. So:

- :class:`Operator` computes ``A x`` or ``A^T x`` into a vector the caller owns (no
  allocation per product), ``A^T`` of a CSR matrix being the CSC reading of the same
  three arrays;
- :class:`SystemRows` forms ``A`` in CSR form directly from ``T_pi`` (the faster form
  for the products), its pattern worked out once per run;
- :func:`dot` and :func:`axpy` run on blocks short enough for OpenBLAS to keep them
  on one thread; :func:`max_abs` and :func:`sum_abs` are the norms of the residual
  bound.

**SciPy's private kernels.** This module, and no other, imports from SciPy's
private ``scipy.sparse._sparsetools``: ``csr_matvec`` and ``csc_matvec``, the C++
loops ``A @ x`` itself runs (:data:`SPARSETOOLS_MATVEC`). SciPy's public API has no
sparse product into a given vector: ``A @ x`` zeroes a fresh vector each time.
Copied into the caller's vector, it measured 1.07-1.32 times the in-place product
with ``A`` or ``A^T`` on the systems the iterative solve takes (Hanoi 8 to 12 disks,
grids of 100 x 100 to 500 x 500; routes interleaved, on 2 busy cores), and a whole
iterative HIMO iteration took 0.95-1.17 times as long (1.07-1.17 from Hanoi 10 up;
the machine's noise is of that size); on the paper's 104-state four rooms, where
the call's fixed cost dominates, 3.6-5.5 times per product. ``python -m benchmarks
--products CASE ...`` measures both routes side by side (benchmarks/RESULTS.md).

Tested on SciPy 1.17.1, the version requirements.lock pins (signature ``(n_row,
n_col, indptr, indices, data, x, y)``, adding ``A x`` to ``y``). Where a SciPy lacks
them the import fails, :data:`SPARSETOOLS_MATVEC` is ``None`` and :class:`Operator`
takes the public route, ``A @ x`` copied into the caller's vector: the same kernel,
so the same numbers, bit for bit (tests/solver/test_linear_solver.py imports this
module with ``_sparsetools`` removed to check).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

try:  # SciPy's private sparse kernels, for products into the caller's vector (see the module docstring)
    from scipy.sparse._sparsetools import csc_matvec, csr_matvec
except ImportError:  # a SciPy without them: the public route, same bits
    SPARSETOOLS_MATVEC = None
else:
    #: ``y += A x`` of the CSR or CSC arrays of ``A`` (``csr_matvec(n_row, n_col, indptr,
    #: indices, data, x, y)``), or ``None`` where SciPy does not have them.
    SPARSETOOLS_MATVEC = {"csr": csr_matvec, "csc": csc_matvec}


# ------------------------------------------------------------------ products
class Operator:
    """``x -> A x`` (or ``A^T x``) of a sparse square matrix, into a vector the caller
    owns.

    A Krylov solve spends most of its time in these products; ``A @ x`` allocates
    its result every time, and on a large system the fresh pages cost as much as a
    third of the product. Here the product runs SciPy's own kernel (``csr_matvec`` /
    ``csc_matvec``, what ``A @ x`` calls) into a reused vector; without it
    (:data:`SPARSETOOLS_MATVEC` ``None``), ``A @ x`` copied into ``out``, the same
    numbers. ``A^T`` of a CSC matrix is the CSR matrix with the same three arrays: no
    transpose is formed.
    """

    def __init__(self, A: sp.spmatrix, transposed: bool = False):
        if A.format not in ("csr", "csc"):
            A = A.tocsr()
        A = A if A.dtype == np.float64 else A.astype(np.float64)
        self.n = A.shape[0]
        self.matrix = A.T if transposed else A
        reads_rows = (A.format == "csr") != transposed  # the arrays are CSR of the operator
        self._kernel = SPARSETOOLS_MATVEC["csr" if reads_rows else "csc"] if SPARSETOOLS_MATVEC else None
        self._arrays = (A.indptr, A.indices, A.data)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        return self.apply(x, np.empty(self.n))

    def apply(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = A x`` (``out`` must not be ``x``)."""
        if self._kernel is None:  # the public route: the same kernel, into a fresh vector
            np.copyto(out, self.matrix @ x)
            return out
        out.fill(0.0)
        self._kernel(self.n, self.n, *self._arrays, np.ascontiguousarray(x, dtype=np.float64), out)
        return out

    def residual(self, b: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out = b - A x``."""
        self.apply(x, out)
        return np.subtract(b, out, out=out)


def as_operator(A) -> Operator:
    """``A`` itself if it is an :class:`Operator`, else the operator of the sparse (or
    dense) matrix ``A``."""
    return A if isinstance(A, Operator) else Operator(sp.csr_matrix(A) if not sp.issparse(A) else A)


# ------------------------------------------------------------------ the system in CSR form
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


def axpy(y: np.ndarray, a: float, x: np.ndarray) -> None:
    """``y += a x`` in place: BLAS ``daxpy`` (one pass, no temporary) on single-threaded blocks."""
    for start in range(0, y.size, DOT_BLOCK):
        blas.daxpy(x[start:start + DOT_BLOCK], y[start:start + DOT_BLOCK], a=a)


def max_abs(v: np.ndarray) -> float:
    """``||v||_inf``, the norm of the values system's residual bound."""
    return float(max(v.max(), -v.min())) if v.size else 0.0


def sum_abs(v: np.ndarray) -> float:
    """``||v||_1``, the norm of the occupancy system's residual bound."""
    return float(np.abs(v).sum())
