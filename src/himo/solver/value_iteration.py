"""Value iteration: the reference optimum that HIMO must converge to (docs/MATH.md, identity 6).

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
from himo.solver.policy import state_argmax, state_max


@dataclass(frozen=True)
class Optimum:
    """The optimum at one foresight, and what value iteration took to find it."""

    value: np.ndarray  # (n_states,) V*
    q: np.ndarray  # (n_pairs,) Q*
    greedy: np.ndarray  # (n_pairs,) a deterministic optimal policy
    iterations: int  # sweeps of the Bellman update taken (the benchmarks report it as the reference's cost)


def greedy_policy(mdp: MDP, q: np.ndarray) -> np.ndarray:
    """A deterministic policy taking, in each state, the first action of largest ``q``."""
    policy = np.zeros(mdp.n_pairs)
    policy[state_argmax(mdp, q)] = 1.0
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
