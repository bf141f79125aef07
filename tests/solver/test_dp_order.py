"""docs/MATH.md, identity 9: the dynamic-programming order, against a brute-force route.

The brute force stores every sweep's greedy set and reads the settling sweep off the
table; :func:`himo.solver.value_iteration.dp_order` needs two passes of ``O(n_pairs)``
memory. On the paper's environments, with either reward convention, the DP order is
the distance to the goal.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import himo
from himo.mdp import MDP
from himo.solver.value_iteration import dp_order, goal_distance, optimal_gap, value_iteration
from himo.tolerances import action_value_atol


def brute_force_dp_order(mdp, lam, sweeps=400, tie=1e-9):
    q_star = value_iteration(mdp, lam).q
    optimal = np.array([q_star[x] >= q_star[mdp.pair_state == mdp.pair_state[x]].max() - tie
                        for x in range(mdp.n_pairs)])
    value, table = np.zeros(mdp.n_states), []
    for _ in range(sweeps):
        q = mdp.R + lam * mdp.P @ value
        best = np.array([q[mdp.pair_state == s].max() for s in range(mdp.n_states)])
        greedy = q >= best[mdp.pair_state] - tie
        table.append([bool(np.all(optimal[(mdp.pair_state == s) & greedy])) for s in range(mdp.n_states)])
        value = best
    settled = np.array(table)  # (sweep, state): every greedy action optimal
    # the first sweep from which the state stays settled
    return np.array([settled.shape[0] - np.argmin(settled[::-1, s]) if not settled[:, s].all() else 0
                     for s in range(mdp.n_states)])


@pytest.mark.parametrize("seed, lam", [(1, 0.6), (4, 0.8), (9, 0.9)])
def test_dp_order_equals_the_brute_force(random_mdp, seed, lam):
    """Sparse rewards (one gain, one cost), so that value spreads over several sweeps."""
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 4, 2, 3, 2, 3), zero_fraction=0.7)
    R = np.zeros(mdp.n_pairs)
    R[-1], R[2] = 1.0, -0.5
    mdp = dataclasses.replace(mdp, R=R)
    order = dp_order(mdp, lam)
    assert order.max() >= 2  # the case is not trivial
    np.testing.assert_array_equal(order, brute_force_dp_order(mdp, lam))


def chain(n: int) -> MDP:
    """States 0 -> 1 -> ... -> n-1 by `right`; `stay` everywhere; reward for staying at the end."""
    pair_state, pair_action, P, R = [], [], [], []
    for s in range(n):
        for a, target in ((0, s), (1, min(s + 1, n - 1))):
            pair_state.append(s), pair_action.append(a)
            row = np.zeros(n)
            row[target] = 1.0
            P.append(row), R.append(1.0 if (s == n - 1 and a == 0) else 0.0)
    goal = np.zeros(n, dtype=bool)
    goal[-1] = True
    return MDP.from_pairs(name="chain", state_labels=[f"c{s}" for s in range(n)], action_labels=["stay", "right"],
                          pair_state=np.array(pair_state), pair_action=np.array(pair_action),
                          P=np.array(P), R=np.array(R), start=0, roles={"goal": goal})


def test_dp_order_of_a_chain_counts_steps_to_the_goal():
    """By hand: the goal settles at sweep 0 (staying is rewarded at once); state n-1-d at
    sweep d, when the reward has travelled d steps back. At the goal both actions stay."""
    mdp = chain(5)
    np.testing.assert_array_equal(dp_order(mdp, 0.9), [4, 3, 2, 1, 0])
    np.testing.assert_array_equal(goal_distance(mdp), [4, 3, 2, 1, 0])


@pytest.mark.parametrize("name", ["hanoi", "fourrooms", "wormhole"])
@pytest.mark.parametrize("rewards", [{}, {"goal_reward": 0.0, "step_reward": -1.0}], ids=["goal", "stepcost"])
def test_dp_order_is_the_goal_distance_on_the_paper_environments(name, rewards):
    mdp = himo.make_env(name, **rewards)
    np.testing.assert_array_equal(dp_order(mdp, 0.9), goal_distance(mdp))


def test_goal_distance_without_a_goal_is_minus_one(random_mdp):
    assert np.all(goal_distance(random_mdp(seed=1)) == -1)


# ------------------------------------------------------- the optimal-action gap
def brute_force_optimal_gap(mdp, lam, v_star, tie=1e-9):
    """``V*_i - max Q*_ij`` over the actions more than ``tie`` below the best, state by
    state, from ``V*`` of an independent value iteration; NaN where there is none."""
    q = mdp.R + lam * mdp.P @ v_star
    gaps = []
    for s in range(mdp.n_states):
        mine = q[mdp.pair_state == s]
        wrong = mine[mine < mine.max() - tie]
        gaps.append(mine.max() - wrong.max() if wrong.size else np.nan)
    return np.array(gaps)


@pytest.mark.parametrize("seed, lam", [(1, 0.6), (4, 0.8), (9, 0.95)])
def test_optimal_gap_equals_the_brute_force(random_mdp, dense_optimum, seed, lam):
    """Single-action states and a state whose two actions are copies (both optimal or
    both wrong) are among the cases; a state with only tied actions has no gap."""
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 4, 2, 3, 1, 3))
    P, R = mdp.P.toarray(), mdp.R.copy()
    twins = np.flatnonzero(mdp.pair_state == 3)[:2]
    P[twins[1]], R[twins[1]] = P[twins[0]], R[twins[0]]
    only_twins = np.flatnonzero(mdp.pair_state == 2)
    P[only_twins[1]], R[only_twins[1]] = P[only_twins[0]], R[only_twins[0]]
    mdp = dataclasses.replace(mdp, P=type(mdp.P)(P), R=R)
    gap = optimal_gap(mdp, lam)
    expected = brute_force_optimal_gap(mdp, lam, dense_optimum(mdp, lam))
    np.testing.assert_array_equal(np.isnan(gap), np.isnan(expected))
    assert np.isnan(gap[[1, 2, 6]]).all() and np.isfinite(gap[[0, 3, 4, 5, 7]]).all()
    np.testing.assert_allclose(gap, expected, rtol=1e-9, atol=1e-9)
    assert np.nanmin(gap) > 0


def test_optimal_gap_of_a_chain_by_hand():
    """``V*`` of state ``n-1-d`` is ``lambda^d / (1 - lambda)``; its wrong action (stay)
    is worth ``lambda V*``, so the gap is ``(1 - lambda) V* = lambda^d``; at the goal
    the wrong action (right: stays, unrewarded) gives the gap ``1``."""
    lam = 0.7
    np.testing.assert_allclose(optimal_gap(chain(5), lam), lam ** np.array([4.0, 3, 2, 1, 0]), rtol=1e-12)


@pytest.mark.parametrize("name", ["hanoi", "fourrooms", "wormhole"])
@pytest.mark.parametrize("rewards", [{}, {"goal_reward": 0.0, "step_reward": -1.0}], ids=["goal", "stepcost"])
@pytest.mark.parametrize("lam", [0.8, 0.99])
def test_optimal_gap_is_lambda_to_the_distance_on_the_paper_environments(name, rewards, lam):
    """docs/MATH.md, section 10: every state can stay put (STOP) at the cost of a step,
    and no wrong move is better than staying, so ``Delta*_i = lambda^d_i`` off the goal
    and the goal's gap is the largest: the gap order is the distance order, which is
    the DP order (so kendall_tau_gap = kendall_tau_dp on these environments)."""
    from himo.measures.dataset import gap_order

    mdp = himo.make_env(name, **rewards)
    gap, distance = optimal_gap(mdp, lam), goal_distance(mdp)
    off_goal = distance > 0
    np.testing.assert_allclose(gap[off_goal], lam ** distance[off_goal].astype(float), rtol=1e-10)
    assert gap[~off_goal].min() > gap[off_goal].max()
    # so the gap order (ties within the tolerance) is the DP order, rank for rank (a rank
    # counts the states before: orders.precedence_ranks, exactly, on the DP sweeps)
    from himo.measures.orders import precedence_ranks

    dp_ranks = precedence_ranks(dp_order(mdp, lam).astype(float), None)
    np.testing.assert_array_equal(gap_order(gap, action_value_atol(mdp, lam)), dp_ranks)


def test_dp_order_and_optimal_gap_take_a_given_optimum(random_mdp):
    mdp, lam = random_mdp(seed=4, action_counts=(3, 2, 2, 4)), 0.8
    optimum = value_iteration(mdp, lam)
    np.testing.assert_array_equal(dp_order(mdp, lam, optimum=optimum), dp_order(mdp, lam))
    np.testing.assert_array_equal(optimal_gap(mdp, lam, optimum=optimum), optimal_gap(mdp, lam))
