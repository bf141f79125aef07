"""Exact policy evaluation with sparse solves: values, advantages and occupancy.

Each policy needs two solves with ``A = I - lambda T``:

    (I - lambda T) V = r_pi          values, r_pi,i = sum_j pi_ij R_ij
    (I - lambda T)^T d = p0          occupancy from the start, d_i = D_0i

(``p0`` is the start distribution, ``e_0`` for the single start state ``s_0``),
by default with one sparse LU factorization of ``A``; a
:class:`himo.solver.linear.LinearSolver` may solve them instead (warm-started
BiCGSTAB to a checked residual bound, see :mod:`himo.solver.linear`). Then
``Q_ij = R_ij + lambda sum_k p_ijk V_k`` and the advantage ``Q_ij - V_i``,
which is the natural path gradient step (docs/MATH.md, identity 4). The objective
(Eq. 6) is ``R(A) = sum_ij D_0i pi_ij R_ij = p0 . V`` (``V_0`` for one start state).
No dense ``n_states x n_states`` array is formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from himo.mdp import MDP
from himo.solver.linear import LinearSolver, dot, solve_directly
from himo.solver.policy import dependent_pairs, state_sums


@dataclass(frozen=True)
class Evaluation:
    """What an exact evaluation of a policy gives, all as flat arrays."""

    value: np.ndarray  # (n_states,) V
    q: np.ndarray  # (n_pairs,) Q
    advantage: np.ndarray  # (n_pairs,) Q - V
    occupancy: np.ndarray  # (n_states,) D_0i
    objective: float  # R(A) = p0 . V (Eq. 6)
    #: (n_states,) each state's most probable pair, as the ``argmax`` dependent rule
    #: picks it (:func:`~himo.solver.policy.dependent_pairs`): the reference of the
    #: advantages, and the dependent actions of the next step under that rule.
    most_probable: np.ndarray


def factorize(mdp: MDP, policy: np.ndarray, lam: float) -> spla.SuperLU:
    """Sparse LU of ``I - lambda T_pi``."""
    return spla.splu(mdp.system_matrix(policy, lam))


def evaluate(mdp: MDP, policy: np.ndarray, lam: float, solver: LinearSolver | None = None) -> Evaluation:
    """Values, Q, advantages and occupancy of ``policy`` at foresight ``lam``.

    ``solver`` (default: one LU, here) solves the two systems; a run passes the same
    one for every iteration, so that it can start from the previous solutions.
    """
    r_pi = state_sums(mdp, policy * mdp.R)
    A = mdp.system_matrix(policy, lam) if solver is None else solver.system_matrix(mdp, policy, lam)
    p0 = mdp.start_distribution
    # (I - lambda T) V = r_pi and (I - lambda T)^T d = p0
    value, occupancy = solve_directly(A, r_pi, p0) if solver is None else solver.solve(A, r_pi, p0)
    q = mdp.P @ value
    q *= lam
    q += mdp.R  # R + lambda P V, in place
    most_probable = dependent_pairs(mdp, "argmax", policy)
    return Evaluation(
        value=value,
        q=q,
        advantage=advantage(mdp, policy, q, most_probable),
        occupancy=np.maximum(occupancy, 0.0),
        objective=start_objective(mdp, value),
        most_probable=most_probable,
    )


def start_objective(mdp: MDP, value: np.ndarray) -> float:
    """``p0 . V``: the expected value of a path's start, Eq. 6's ``R(A)`` for ``V = V_pi``."""
    return dot(mdp.start_distribution, value)


def advantage(mdp: MDP, policy: np.ndarray, q: np.ndarray, most_probable: np.ndarray | None = None) -> np.ndarray:
    """``Q_ij - V_i`` with ``V_i = sum_k pi_ik Q_ik``, free of cancellation.

    Computed relative to each state's most probable action ``m`` (``most_probable``,
    by default as the ``argmax`` dependent rule picks it):
    ``(Q_ij - Q_im) - sum_k pi_ik (Q_ik - Q_im)``. For that action the first term
    is exactly 0 and the sum has no term of its own, so its advantage keeps full
    relative precision as the policy becomes deterministic (the plain ``Q - V``
    would be rounding noise of size ``eps * |V|``, and stall the policy flow).
    """
    if most_probable is None:
        most_probable = dependent_pairs(mdp, "argmax", policy)
    counts = mdp.actions_per_state  # np.repeat(x, counts) is x[mdp.pair_state], in one sequential pass
    relative = np.repeat(q[most_probable], counts)
    np.subtract(q, relative, out=relative)  # Q_ij - Q_im
    weighted = np.multiply(policy, relative)
    relative -= np.repeat(state_sums(mdp, weighted), counts)
    return relative


def reachable_states(mdp: MDP) -> np.ndarray:
    """``(n_states,)`` mask of the states reachable from the start (``D_0i > 0``).

    Under a strictly positive policy, a state is reached with positive probability
    exactly when the transition graph has a path to it from a start state
    (``p0_s > 0``). One breadth-first search from an extra node, numbered
    ``n_states``, with an edge to every start state finds them all.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    n = mdp.n_states
    T = mdp.transition_graph().tocoo()
    starts = mdp.start_states
    rows = np.concatenate([T.row, np.full(starts.size, n)])
    cols = np.concatenate([T.col, starts])
    graph = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    mask = np.zeros(n + 1, dtype=bool)
    mask[order] = True
    return mask[:n]
