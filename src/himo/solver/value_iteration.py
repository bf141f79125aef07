"""Value iteration: the reference optimum that HIMO must converge to (docs/MATH.md, identity 6).

    V*(s_i) = max_j [ R_ij + lambda sum_k p_ijk V*(s_k) ]

iterated from ``V = 0`` until the sup-norm change is below ``tol * (1 - lambda) /
lambda`` (so that ``V`` is within ``tol`` of ``V*``), then polished by one exact
evaluation of the greedy policy (policy iteration's last step).

From the same ``Q*``: which actions are optimal (:func:`optimal_pairs`), the order in
which value iteration from ``V = 0`` settles the states (:func:`dp_order`, identity 9)
and each state's optimal-action gap (:func:`optimal_gap`, section 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from himo.mdp import MDP
from himo.solver.evaluation import evaluate
from himo.solver.policy import state_argmax, state_max, state_sums
from himo.tolerances import action_value_atol


@dataclass(frozen=True)
class Optimum:
    """The optimum at one foresight, and what value iteration took to find it."""

    value: np.ndarray  # (n_states,) V*
    q: np.ndarray  # (n_pairs,) Q*
    greedy: np.ndarray  # (n_pairs,) a deterministic optimal policy
    iterations: int  # sweeps of the Bellman update taken (the benchmarks report it as the reference's cost)
    objective: float  # the optimal objective p0 . V* (V*(s_0) for one start state)


def greedy_policy(mdp: MDP, q: np.ndarray) -> np.ndarray:
    """A deterministic policy taking, in each state, the first action of largest ``q``."""
    policy = np.zeros(mdp.n_pairs)
    policy[state_argmax(mdp, q)] = 1.0
    return policy


def bellman_sweeps(mdp: MDP, lam: float, tol: float, max_iter: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Value iteration from ``V_0 = 0``: yields ``(Q_k, V_{k+1})`` of each sweep ``k``,
    ``Q_k = R + lambda P V_k`` and ``V_{k+1} = max_j Q_k``, the last one when
    ``max |V_{k+1} - V_k| < tol (1 - lambda) / lambda`` (then ``V_{k+1}`` is within
    ``tol`` of ``V*``) or after ``max_iter`` sweeps. The one loop of
    :func:`value_iteration` and :func:`dp_order`."""
    value = np.zeros(mdp.n_states)
    threshold = tol * (1 - lam) / lam
    for _ in range(max_iter):
        q = mdp.R + lam * (mdp.P @ value)
        best = state_max(mdp, q)
        yield q, best
        if np.max(np.abs(best - value)) < threshold:
            return
        value = best


def value_iteration(mdp: MDP, lam: float, tol: float = 1e-12, max_iter: int = 100_000) -> Optimum:
    """The optimal values and a greedy optimal policy at foresight ``lam``."""
    value, iterations = np.zeros(mdp.n_states), 0
    for iterations, (_, value) in enumerate(bellman_sweeps(mdp, lam, tol, max_iter), start=1):
        pass  # run the sweeps to the last
    greedy = greedy_policy(mdp, mdp.R + lam * (mdp.P @ value))
    exact = evaluate(mdp, greedy, lam)
    return Optimum(value=exact.value, q=exact.q, greedy=greedy, iterations=iterations, objective=exact.objective)


def policy_iteration(mdp: MDP, lam: float, initial_policy: np.ndarray | None = None,
                     max_iter: int = 10_000) -> Optimum:
    """The optimum by policy iteration (Howard), the reference for a run's iteration count.

    Each iteration evaluates the policy exactly (:func:`~himo.solver.evaluation.evaluate`)
    and replaces it by the greedy policy of its ``Q``, keeping a state's current action
    when it is among the best (within :func:`himo.tolerances.action_value_atol`, so that ties cannot make it
    cycle); it stops when no state changes, the policy then being greedy with respect to
    its own values, hence optimal. It starts from ``initial_policy``, by default the
    greedy policy of the rewards (one Bellman step from ``V = 0``, as pymdptoolbox's
    ``PolicyIteration`` starts). ``iterations`` counts the evaluations, the final one
    that finds the policy stable included: the unit of a HIMO run's cost (one exact
    evaluation per iteration), so that the benchmarks can compare the two. Policy
    iteration is the natural policy gradient's limit of infinite steps (docs/MATH.md,
    "The step schedule").
    """
    policy = greedy_policy(mdp, mdp.R) if initial_policy is None else np.asarray(initial_policy, dtype=float)
    tie = action_value_atol(mdp, lam)
    for evaluations in range(1, max_iter + 1):
        evaluation = evaluate(mdp, policy, lam)
        best = best_pairs(mdp, evaluation.q, tie)
        kept = best & (policy == 1.0)  # the current action where it is still among the best
        improved = greedy_policy(mdp, np.where(best, 1.0, 0.0))  # otherwise the first best
        greedy = np.where((state_sums(mdp, kept) > 0)[mdp.pair_state], kept.astype(float), improved)
        if np.array_equal(greedy, policy):
            return Optimum(value=evaluation.value, q=evaluation.q, greedy=policy, iterations=evaluations,
                           objective=evaluation.objective)
        policy = greedy
    raise ArithmeticError(f"policy iteration did not settle in {max_iter} evaluations")


def optimal_pairs(mdp: MDP, lam: float, optimum: Optimum) -> np.ndarray:
    """``(n_pairs,)`` mask of the optimal actions: ``Q*_ij`` within
    :func:`~himo.tolerances.action_value_atol` of the state's best. ``optimum`` is
    :func:`value_iteration`'s at foresight ``lam``."""
    return best_pairs(mdp, optimum.q, action_value_atol(mdp, lam))


def best_pairs(mdp: MDP, q: np.ndarray, tie: float, best: np.ndarray | None = None) -> np.ndarray:
    """``(n_pairs,)`` mask of each state's best actions under the action values ``q``
    (``Q*`` for :func:`optimal_pairs`, any policy's ``Q`` otherwise): those within
    ``tie`` (:func:`~himo.tolerances.action_value_atol`) of the state's largest,
    ``best`` (``state_max`` of ``q``, computed when not given)."""
    best = state_max(mdp, q) if best is None else best
    return q >= best[mdp.pair_state] - tie


def dp_order(mdp: MDP, lam: float, tol: float = 1e-12, max_iter: int = 100_000,
             optimum: Optimum | None = None) -> np.ndarray:
    """``(n_states,)`` each state's sweep in the dynamic-programming order (docs/MATH.md, identity 9).

    Value iteration from ``V_0 = 0``: sweep ``k`` computes ``Q_k = R + lambda P V_k``
    and ``V_{k+1} = max_j Q_k``. A state's DP priority is the first sweep ``k`` from
    which every greedy action of ``Q_k`` (:func:`best_pairs`) stays an optimal
    action of ``Q*`` (:func:`optimal_pairs`) at every later sweep: the moment value
    iteration has settled that state's decision for good. Reward that spreads from one
    place (the goal) reaches a state after as many sweeps as it is steps away, so with
    a reward only for remaining at the goal the order is, up to ties, the distance to
    the goal (:func:`goal_distance`).

    Two passes of ``O(n_pairs)`` memory: one for ``Q*`` (skipped when ``optimum``, the
    :func:`value_iteration` at ``lam``, is given), one that records the last sweep at
    which each state's greedy actions were not all optimal.
    """
    optimum = value_iteration(mdp, lam, tol=tol, max_iter=max_iter) if optimum is None else optimum
    tie = action_value_atol(mdp, lam)
    optimal = optimal_pairs(mdp, lam, optimum)
    unsettled_until = np.full(mdp.n_states, -1)
    for sweep, (q, best) in enumerate(bellman_sweeps(mdp, lam, tol, max_iter)):
        greedy = best_pairs(mdp, q, tie, best)
        unsettled_until[state_sums(mdp, greedy & ~optimal) > 0] = sweep
    return unsettled_until + 1


def optimal_gap(mdp: MDP, lam: float, optimum: Optimum | None = None) -> np.ndarray:
    """``(n_states,)`` the optimal-action gap ``Delta*_i = V*_i - max_{j not optimal} Q*_ij``
    (docs/MATH.md, section 10).

    How much worse than the best the best *wrong* action of the state is, at the
    optimum: the rate at which the replicator flow (identity 10) separates the optimal
    action from its nearest rival once ``Q`` has reached ``Q*``. Optimal actions are
    those of :func:`optimal_pairs` (ties within
    :func:`~himo.tolerances.action_value_atol`). NaN where every action is optimal (a
    single-action state, or one whose actions all tie): the state has no wrong action
    to unlearn, so no gap and no place in the gap order.
    ``optimum`` is :func:`value_iteration`'s at ``lam`` (computed when not given).
    """
    optimum = value_iteration(mdp, lam) if optimum is None else optimum
    optimal = optimal_pairs(mdp, lam, optimum)
    best_wrong = state_max(mdp, np.where(optimal, -np.inf, optimum.q))
    gap = state_max(mdp, optimum.q) - best_wrong  # +inf where no action is wrong
    return np.where(np.isfinite(gap), gap, np.nan)


def goal_distance(mdp: MDP) -> np.ndarray:
    """``(n_states,)`` the fewest steps from each state to a state of role ``goal``.

    Steps follow the transition graph (an edge where some action moves with positive
    probability); ``-1`` where no goal is reachable, or the MDP has no goal role.
    """
    from scipy.sparse.csgraph import shortest_path

    goal = np.flatnonzero(mdp.role("goal"))
    if goal.size == 0:
        return np.full(mdp.n_states, -1)
    graph = mdp.transition_graph().T.tocsr()  # reversed: from the goal back
    distance = shortest_path(graph, directed=True, unweighted=True, indices=goal).min(axis=0)
    return np.where(np.isfinite(distance), distance, -1).astype(int)
