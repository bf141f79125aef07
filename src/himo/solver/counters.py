"""The dense quantities of Algorithm 1 (paper section 7.4).

With ``T_ik = sum_j pi_ij p_ijk`` the state-to-state matrix under the policy and
``lambda`` the foresight (the path continues after every step with probability
``lambda``):

    D       = (I - lambda T)^-1                     successor representation
    E_(ij)k = lambda sum_k' p_ijk' D_k'k            visits of s_k strictly after (i, j)
    <n_ij>  = D_0i pi_ij
    C_ij,kl = D_0i pi_ij delta_ik delta_jl + (D_0i E_(ij)k + D_0k E_(kl)i) pi_ij pi_kl
    g       = B C R                                  path gradient, Eq. 18
    I       = B C B^T                                Fisher information, Eq. 19

with ``B`` the score projection of :func:`himo.solver.policy.score_projection`.

**Erratum.** Algorithm 1 as printed has ``E_(ij)k = sum_k' p_ijk' D_k'k`` without
the factor ``lambda``; only the form with ``lambda`` equals ``<n_ij n_kl>`` under the
path model (tested against Monte Carlo paths in ``tests/solver/test_counters.py``).
``e_form="printed"`` selects the printed form so that its effect can be shown.

Everything here is dense: ``C`` is ``n_pairs x n_pairs``. The exact sparse route of
:mod:`himo.solver.evaluation` is what scales.
"""

from __future__ import annotations

import typing
from typing import Literal

import numpy as np
import scipy.linalg

from himo.errors import ParameterError
from himo.mdp import MDP

EForm = Literal["exact", "printed"]
E_FORMS = typing.get_args(EForm)


def successor_representation(mdp: MDP, policy: np.ndarray, lam: float) -> np.ndarray:
    """``D = (I - lambda T)^-1``, dense ``(n_states, n_states)``."""
    T = mdp.state_transitions(policy).toarray()
    return scipy.linalg.inv(np.eye(mdp.n_states) - lam * T)


def pair_successor(mdp: MDP, D: np.ndarray, lam: float, e_form: EForm = "exact") -> np.ndarray:
    """``E_(ij)k``, dense ``(n_pairs, n_states)``: expected visits of ``s_k`` after (i, j)."""
    if e_form not in E_FORMS:
        raise ParameterError(f"e_form must be one of {E_FORMS}, got {e_form!r}")
    E = np.asarray(mdp.P @ D)
    return lam * E if e_form == "exact" else E


def mean_counts(mdp: MDP, policy: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """``<n_ij> = D_0i pi_ij``, ``(n_pairs,)``."""
    return occupancy[mdp.pair_state] * policy


def counter_correlations(
    mdp: MDP, policy: np.ndarray, lam: float, e_form: EForm = "exact"
) -> tuple[np.ndarray, np.ndarray]:
    """The counter correlations ``C`` (``n_pairs x n_pairs``) and mean counts ``<n>``."""
    D = successor_representation(mdp, policy, lam)
    E = pair_successor(mdp, D, lam, e_form)
    n = mean_counts(mdp, policy, D[mdp.start])
    # M[x, y] = D_0i E_(ij)k pi_ij pi_kl for x = (ij), y = (kl): C = diag(n) + M + M^T
    M = (n[:, None] * E[:, mdp.pair_state]) * policy[None, :]
    C = M + M.T
    C[np.diag_indices_from(C)] += n
    return C, n


def path_gradient(C: np.ndarray, B, R: np.ndarray) -> np.ndarray:
    """Eq. 18: ``g_ij = sum_kl (C_ij,kl - r_ij C_iw,kl) R_kl`` for the free pairs."""
    return B @ (C @ R)


def fisher_information(C: np.ndarray, B) -> np.ndarray:
    """Eq. 19: ``I = B C B^T`` over the free pairs, dense ``(n_free, n_free)``."""
    BC = B @ C  # (n_free, n_pairs), dense
    return np.asarray((B @ BC.T).T)
