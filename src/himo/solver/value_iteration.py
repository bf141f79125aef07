"""Value iteration: the reference optimum that HIMO must converge to (MATH.md identity 6).

    V*(s_i) = max_j [ R_ij + lambda sum_k p_ijk V*(s_k) ]

iterated from ``V = 0`` until the sup-norm change is below ``tol * (1 - lambda) /
lambda`` (so that ``V`` is within ``tol`` of ``V*``), then polished by one exact
evaluation of the greedy policy (policy iteration's last step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from himo.mdp import MDP
from himo.solver.evaluation import evaluate
from himo.solver.policy import state_max


@dataclass(frozen=True)
class Optimum:
    value: np.ndarray  # (n_states,) V*
    q: np.ndarray  # (n_pairs,) Q*
    greedy: np.ndarray  # (n_pairs,) a deterministic optimal policy
    iterations: int


def greedy_policy(mdp: MDP, q: np.ndarray) -> np.ndarray:
    """A deterministic policy taking, in each state, the first action of largest ``q``."""
    best = state_max(mdp, q)
    candidates = np.flatnonzero(q >= best[mdp.pair_state])
    _, first = np.unique(mdp.pair_state[candidates], return_index=True)
    policy = np.zeros(mdp.n_pairs)
    policy[candidates[first]] = 1.0
    return policy


def value_iteration(mdp: MDP, lam: float, tol: float = 1e-12, max_iter: int = 100_000) -> Optimum:
    """The optimal values and a greedy optimal policy at foresight ``lam``."""
    value = np.zeros(mdp.n_states)
    threshold = tol * (1 - lam) / lam
    for iteration in range(1, max_iter + 1):
        new = state_max(mdp, mdp.R + lam * (mdp.P @ value))
        done = np.max(np.abs(new - value)) < threshold
        value = new
        if done:
            break
    greedy = greedy_policy(mdp, mdp.R + lam * (mdp.P @ value))
    exact = evaluate(mdp, greedy, lam)
    return Optimum(value=exact.value, q=exact.q, greedy=greedy, iterations=iteration)
